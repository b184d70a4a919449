// The exporter's own health: is it up, can it list, is its data fresh.
local t = import 'lib/templates.libsonnet';
local text = import 'lib/text.libsonnet';

{
  prometheusAlerts+:: {
    local c = $._config,

    local rule(name, expr, fields) =
      local sev = c.alerts[name];
      if std.get(sev, 'disabled', false) || sev.all == null then []
      else [fields {
        alert: name,
        expr: std.rstripChars(expr, '\n') + '\n',
        labels+: c.ruleLabels { severity: sev.all },
        annotations: std.mapWithKey(function(_, v) text.fold(v), fields.annotations { runbook_url: c.runbookURLPattern % std.asciiLower(name) }),
      }],

    groups+: [
      {
        name: 'twilio_trusthub_exporter',
        rules: std.flattenArrays([
          // No target of the exporter's job is up, or there is none: every
          // alert above is blind. One replica restarting leaves another up
          // and alerts nobody; `for` is longer than a rollout.
          // Per job, so the alert names it: every target down, or none
          // there (absent keeps the selector's equality matchers as labels).
          rule('TwilioTrustHubExporterDown', |||
            max by (job) (up{%(sel)s}) == 0
            or
            absent(up{%(sel)s})
          ||| % { sel: c.jobSelector }, {
            'for': c.exporterDownFor,
            annotations: {
              summary: 'No twilio_trusthub_exporter target is up',
              description: |||
                No target of {%s} has been up for %s, or Prometheus has none: rejections, suspensions and expiries of Twilio compliance
                objects go unseen, and none of the exporter's alerts can fire. Check the exporter's pods or service and its logs, and
                Prometheus' targets page for the scrape error.
              ||| % [c.jobSelector, c.exporterDownFor],
            },
          }),
          // Twilio (or the way to it) fails for most accounts at once: one
          // alert rather than one per account, resource and replica, and in
          // the Alertmanager example it inhibits those. An account fails when
          // any replica fails to list it.
          rule('TwilioTrustHubAPIUnreachable', |||
            (
              count by (job) (max by (job, account) (twilio_trusthub_up == 0))
              / count by (job) (max by (job, account) (twilio_trusthub_up))
            ) > %(ratio)s
            and
            count by (job) (max by (job, account) (twilio_trusthub_up == 0)) >= %(min)d
          ||| % { ratio: c.apiUnreachableRatio, min: c.apiUnreachableMinAccounts }, {
            'for': c.apiUnreachableFor,
            annotations: {
              summary: 'twilio_trusthub_exporter cannot list {{ $value | humanizePercentage }} of its accounts',
              description: |||
                {{ $value | humanizePercentage }} of the accounts of job {{ $labels.job }} fail to list: Twilio's API is down or unreachable from the
                exporter (network, proxy, DNS), or every credential was revoked at once. Rejections, suspensions and expiries go unseen until it
                recovers; the last data is served up to max_stale, and object alerts ride out the gap for keep_firing_for.
                Failing accounts by replica: {{ range $i, $r := printf "count by (instance) (twilio_trusthub_up{job=%q} == 0)" $labels.job | query | sortByLabel "instance" }}{{ if $i }}, {{ end }}{{ $r.Labels.instance }}: {{ $r | value }}{{ end }}.
                Failures in the last 15 minutes by reason: {{ range $i, $r := printf "sum by (reason) (increase(twilio_trusthub_exporter_listing_errors_total{job=%q}[15m])) > 0" $labels.job | query | sortByLabel "reason" }}{{ if $i }}, {{ end }}{{ $r.Labels.reason }} {{ $r | value | printf "%.0f" }}{{ else }}none counted{{ end }}.
                Check https://status.twilio.com and the exporter's logs (msg="listing failed").
              |||,
            },
          }),
          // One cause, one notification. twilio_trusthub_up is 0 as soon
          // as any one resource of the account fails, so alerting on it
          // alone would notify twice for a 403 on one resource (this alert
          // and ResourceListingFailing) and N+1 times for a revoked token.
          // The two alerts split the cases on the same replica's series:
          // every resource fails (credentials, network: the account), or
          // some fail while another lists (permissions). `unless ...
          // resource_up == 1` keeps ListingFailing for an exporter that
          // exports no resource_up. Per replica on purpose: one that cannot
          // list (its own token file, its own network path) is worth
          // knowing about while another still can.
          rule('TwilioTrustHubListingFailing', |||
            (twilio_trusthub_up == 0)
            unless ignoring (resource)
            (twilio_trusthub_resource_up == 1)
          |||, {
            'for': c.listingFailingFor,
            annotations: {
              account: t.account + '{{ $account }}',
              summary: t.account + 'twilio_trusthub_exporter cannot list {{ $account }}',
              description: t.account + |||
                The last listings of every resource of {{ $account }} by {{ $labels.instance }} failed for %s, so rejections, suspensions
                and expiries there go unseen. The exporter logs the cause with msg="listing failed" account={{ $labels.account }}: often a
                rotated or revoked auth token (HTTP 401), Twilio rate limiting (429) or an outage (5xx).
              ||| % c.listingFailingFor,
            },
          }),
          rule('TwilioTrustHubResourceListingFailing', |||
            (twilio_trusthub_resource_up == 0)
            and ignoring (resource)
            (twilio_trusthub_resource_up == 1)
          |||, {
            'for': c.listingFailingFor,
            annotations: {
              account: t.account + '{{ $account }}',
              summary: t.account + 'twilio_trusthub_exporter cannot list {{ $labels.resource }} of {{ $account }}',
              description: t.account + |||
                The last listings of {{ $labels.resource }} in {{ $account }} by {{ $labels.instance }} failed for %s while the account's
                other resources still list, so rejections, suspensions and expiries of {{ $labels.resource }} there go unseen. When one
                resource fails alone, the cause is most often permissions: an API key whose permissions do not cover that API answers
                HTTP 403. The exporter logs the cause with msg="listing failed" account={{ $labels.account }} resource={{ $labels.resource }}.
              ||| % c.listingFailingFor,
            },
          }),
          rule('TwilioTrustHubDataStale', 'time() - twilio_trusthub_last_success_timestamp_seconds > %d' % c.dataStaleSeconds, {
            'for': '5m',
            annotations: {
              account: t.account + '{{ $account }}',
              summary: t.account + 'Twilio data {{ with $labels.resource }}({{ . }}) {{ end }}for {{ $account }} is {{ $value | humanizeDuration }} old',
              description: t.account + |||
                The last successful listing of {{ with $labels.resource }}{{ . }} in {{ end }}{{ $account }} by {{ $labels.instance }} completed
                {{ $value | humanizeDuration }} ago. Alerts on that account's {{ with $labels.resource }}{{ . }}{{ else }}objects{{ end }} rest on
                old data; see TwilioTrustHubListingFailing, TwilioTrustHubResourceListingFailing and the exporter's logs.
              |||,
            },
          }),
          // Per replica, as ListingFailing.
          rule('TwilioTrustHubDiscoveryFailing', 'twilio_trusthub_discovery_up == 0', {
            'for': c.listingFailingFor,
            annotations: {
              account: t.account + '{{ $account }}',
              summary: t.account + 'twilio_trusthub_exporter cannot list the subaccounts of {{ $account }}',
              description: t.account + |||
                The last readings of the subaccount list of {{ $account }} by {{ $labels.instance }} failed for %s, so a subaccount created
                since is not watched. Subaccounts still watched from the last list: {{ with printf "max(twilio_trusthub_discovered_subaccounts{account=%%q,instance=%%q})" $labels.account $labels.instance | query }}{{ . | first | value }}{{ else }}unknown{{ end }};
                they are dropped `max_stale` (30m by default) after the last successful reading, and their alerts then resolve although
                nothing was fixed.
                Failures in the last 15 minutes by reason: {{ range $i, $r := printf "sum by (reason) (increase(twilio_trusthub_discovery_errors_total{account=%%q,instance=%%q}[15m])) > 0" $labels.account $labels.instance | query | sortByLabel "reason" }}{{ if $i }}, {{ end }}{{ $r.Labels.reason }}{{ else }}none counted{{ end }}.
                The exporter logs the cause with msg="subaccount discovery failed; keeping the last list" account={{ $labels.account }}:
                often a rotated parent token, or a Standard API key, which cannot list subaccounts (HTTP 401 or 403).
              ||| % c.listingFailingFor,
            },
          }),
          // The counts of what uses objects keep failing: severities fall
          // back to what an unused object gets, so a problem that stops
          // something may be a ticket instead of a page.
          rule('TwilioTrustHubUsageListingFailing', 'rate(twilio_trusthub_usage_listing_errors_total[30m]) > 0', {
            'for': c.usageFailingFor,
            annotations: {
              account: t.account + '{{ $account }}',
              summary: t.account + 'twilio_trusthub_exporter cannot tell what uses the {{ $labels.resource }} of {{ $account }}',
              description: t.account + |||
                For %s, the exporter's listings of what uses {{ $labels.resource }} in {{ $account }} (the phone numbers assigned to a bundle,
                the numbers of a campaign's Messaging Service) have been failing. Objects keep their last known figure; an object never
                counted counts as unused, so its alerts are tickets where they might be pages. The exporter logs the cause with
                msg="could not list what uses some objects; they keep their last known figure" account={{ $labels.account }}: often an
                API key whose permissions do not cover the sub-resource (HTTP 403).
              ||| % c.usageFailingFor,
            },
          }),
        ]),
      },
    ],
  },
}
