// twilio_trusthub_exporter's monitoring mixin: its recording rules, alerts
// and dashboard, with the settings in config.libsonnet. See README.md.
(import 'config.libsonnet')
+ (import 'rules.libsonnet')
+ (import 'alerts.libsonnet')
+ (import 'health.libsonnet')
+ (import 'dashboards.libsonnet')
