// The Grafana dashboard, by file name (see dashboards/dashboard.libsonnet).
{
  grafanaDashboards+:: {
    'twilio_trusthub.json': import 'dashboards/dashboard.libsonnet',
  },
}
