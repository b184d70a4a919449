// The Grafana dashboard, by file name.
{
  grafanaDashboards+:: {
    'twilio_trusthub.json': import 'dashboards/twilio_trusthub.json',
  },
}
