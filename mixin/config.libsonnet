// The mixin's settings. Override any of them without forking:
//
//   (import 'mixin.libsonnet') + { _config+:: { jobSelector: 'job="trusthub"' } }
//
// then generate with scripts/generate-mixin.sh (or `jsonnet`); see README.md.
{
  _config+:: {
    // Selects the exporter's own targets (the job of examples/prometheus.yml):
    // TwilioTrustHubExporterDown fires when none of them is up, and the
    // dashboard's job variable starts from it.
    jobSelector: 'job="twilio_trusthub"',

    // Labels added to every alert, e.g. { team: 'compliance' }.
    ruleLabels: {},

    // Each alert's runbook_url: the pattern, with the alert's name in lower
    // case for %s.
    runbookURLPattern: 'https://github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/blob/main/docs/runbooks.md#%s',

    // Object alerts (about one profile, Trust Product, brand, campaign or
    // toll-free verification).
    // for: how long a problem holds before it notifies; keep_firing_for:
    // how long an alert outlives its series, so that a scrape gap, a pod
    // rollout or a listing failure within max_stale never resolves it and
    // pages again.
    objectFor: '5m',
    keepFiringFor: '15m',
    // An approval ends within these many days: ExpiringSoon (a ticket when in
    // use), ExpiringVerySoon (a page when in use).
    expiringSoonDays: 30,
    expiringVerySoonDays: 7,
    // In review longer than this many days (since the object last changed):
    // stuck. The vetting of A2P campaigns takes longest.
    stuckInReviewDays: {
      customer_profiles: 7,
      trust_products: 7,
      brand_registrations: 7,
      a2p_campaigns: 21,
      tollfree_verifications: 7,
    },
    stuckInReviewFor: '15m',
    // A rejected toll-free verification can be edited and resubmitted until
    // its edit_expiration; this many hours before, the window is closing.
    editWindowHours: 48,

    // The exporter's own health.
    listingFailingFor: '15m',
    // Data older than this (seconds since the last successful listing) is stale.
    dataStaleSeconds: 3600,
    // Twilio unreachable: more than this share of the accounts (at least
    // apiUnreachableMinAccounts of them) fail to list at once. One alert, which
    // stands for (and, in the Alertmanager example, inhibits) the per-account
    // listing and staleness alerts.
    apiUnreachableRatio: 0.5,
    apiUnreachableMinAccounts: 2,
    apiUnreachableFor: '10m',
    // No target of jobSelector up for this long: longer than a rollout.
    exporterDownFor: '5m',
    // Counts of what uses an object failing for this long: severities fall
    // back to "unused".
    usageFailingFor: '1h',

    // Severity of each alert. An object alert whose severity follows what
    // the object stops has two: inUse (something the exporter watches uses the
    // object: assigned phone numbers, a brand, campaigns, a verification) and
    // unused (nothing does: a historic rejection of a draft). Any other alert
    // has one, all. null drops that variant; disabled: true drops the alert.
    alerts: {
      TwilioTrustHubProfileRejected: { inUse: 'critical', unused: 'warning' },
      TwilioTrustHubProfileExpiringSoon: { inUse: 'warning', unused: null },
      TwilioTrustHubProfileExpiringVerySoon: { inUse: 'critical', unused: null },
      TwilioTrustHubProfileExpired: { inUse: 'critical', unused: 'warning' },
      TwilioTrustHubProfileStuckInReview: { all: 'warning' },
      TwilioTrustHubTrustProductRejected: { inUse: 'critical', unused: 'warning' },
      TwilioTrustHubTrustProductExpiringSoon: { inUse: 'warning', unused: null },
      TwilioTrustHubTrustProductExpiringVerySoon: { inUse: 'critical', unused: null },
      TwilioTrustHubTrustProductExpired: { inUse: 'critical', unused: 'warning' },
      TwilioTrustHubTrustProductStuckInReview: { all: 'warning' },
      TwilioTrustHubA2PBrandSuspended: { inUse: 'critical', unused: 'warning' },
      TwilioTrustHubA2PBrandFailed: { inUse: 'critical', unused: 'warning' },
      TwilioTrustHubA2PBrandStuckInReview: { all: 'warning' },
      TwilioTrustHubA2PCampaignNotVerified: { inUse: 'critical', unused: 'warning' },
      TwilioTrustHubA2PCampaignStuckInReview: { all: 'warning' },
      TwilioTrustHubTollfreeVerificationRejected: { all: 'warning' },
      TwilioTrustHubTollfreeVerificationEditWindowClosing: { all: 'critical' },
      TwilioTrustHubTollfreeVerificationStuckInReview: { all: 'warning' },
      TwilioTrustHubExporterDown: { all: 'warning' },
      TwilioTrustHubAPIUnreachable: { all: 'warning' },
      TwilioTrustHubListingFailing: { all: 'warning' },
      TwilioTrustHubResourceListingFailing: { all: 'warning' },
      TwilioTrustHubDataStale: { all: 'warning' },
      TwilioTrustHubDiscoveryFailing: { all: 'warning' },
      TwilioTrustHubUsageListingFailing: { all: 'warning' },
    },
  },
}
