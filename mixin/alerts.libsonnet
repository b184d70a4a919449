// The alerts. Object alerts (one profile, Trust Product, brand, campaign
// or toll-free verification) page only when something the exporter
// watches uses the object (sid:twilio_trusthub_usage:sum, see
// rules.libsonnet): its assigned phone numbers, a brand built on it, the
// campaigns under it, a verification that names it. The same problem on
// an object nothing uses is a ticket, or nothing (see _config.alerts).
//
// Labels hold still while the cause lasts: account, sid, severity, the
// status where it is the cause, and identifiers fixed when the object was
// made (a campaign's service and brand). Names, TCR ids, phone numbers and
// what the object stops go in annotations, which Alertmanager's
// notification template (examples/alertmanager.tmpl) lists: a rename never
// ends one alert and starts another. keep_firing_for rides out scrape gaps.
//
// Two or more exporter replicas may export the same account: every value
// is reduced over replicas (max by (account, sid ...)) and info series are
// read with topk by (account, sid) (1, ...), so an alert fires once per
// object whatever the number of replicas.
local kinds = (import 'lib/kinds.libsonnet').Kinds;
local t = import 'lib/templates.libsonnet';
local text = import 'lib/text.libsonnet';

local cp = kinds.customer_profiles;
local tp = kinds.trust_products;
local brand = kinds.brand_registrations;
local campaign = kinds.a2p_campaigns;
local tfv = kinds.tollfree_verifications;

local inUse = 'sid:twilio_trusthub_usage:sum > 0';

local trim(s) = std.rstripChars(s, '\n');
local indent(s) = std.join('\n', ['  ' + l for l in std.split(trim(s), '\n')]);
local statusIs(k, statuses) = '%s_status{status=~"%s"} == 1' % [k.Prefix, std.join('|', statuses)];

// The policies whose Trust Products Twilio documents (the SIDs are the
// same in every account): what a Trust Product of each is for.
local policies = |||
  {{ $kind := "" }}{{ $affects := "the phone numbers assigned to it, or the brand registration that names it" -}}
  {{ with $info }}{{ if eq .Labels.policy_sid "RNb0d4771c2c98518d916a3d4cd70a8f8b" }}{{ $kind = "A2P messaging profile" }}{{ $affects = "the A2P 10DLC brand registration that names it, and with it US long-code messaging through that brand's campaigns" -}}
  {{ else if eq .Labels.policy_sid "RN7a97559effdf62d00f4298208492a5ea" }}{{ $kind = "SHAKEN/STIR" }}{{ $affects = "full (A) attestation of calls from its phone numbers, without which they are more likely to be labelled spam or blocked" -}}
  {{ else if eq .Labels.policy_sid "RNf3db3cd1fe25fcfd3c3ded065c8fea53" }}{{ $kind = "CNAM" }}{{ $affects = "the caller name (CNAM) shown for calls from its phone numbers" -}}
  {{ else if eq .Labels.policy_sid "RN5b3660f9598883b1df4e77f77acefba0" }}{{ $kind = "Voice Integrity" }}{{ $affects = "the registration of its phone numbers with the carriers' spam analytics, without which their calls are more likely to be labelled spam" -}}
  {{ end }}{{ end -}}
|||;

{
  prometheusAlerts+:: {
    local c = $._config,

    // rules returns alert name's rules: one per severity the
    // configuration gives it. An alert with inUse and unused severities
    // is split on what uses the object (see the header).
    local rules(name, expr, fields) =
      local sev = c.alerts[name];
      local base = fields {
        alert: name,
        labels+: c.ruleLabels,
        annotations: std.mapWithKey(function(_, v) text.fold(v), fields.annotations { runbook_url: c.runbookURLPattern % std.asciiLower(name) }),
      };
      local one(severity, e) = if severity == null then [] else [base { expr: e, labels+: { severity: severity } }];
      if std.get(sev, 'disabled', false) then []
      else if std.objectHas(sev, 'all') then one(sev.all, trim(expr) + '\n')
      else
        one(sev.inUse, '(\n%s\n)\nand on (sid) (%s)\n' % [indent(expr), inUse])
        + one(sev.unused, '(\n%s\n)\nunless on (sid) (%s)\n' % [indent(expr), inUse]),

    // objectFields are the fields of an object alert about kind k: for and
    // keep_firing_for, and the annotations every one of them has (the
    // account, the object's name, what uses it, its error codes, where to
    // act on it), which the notification template lists object by object.
    local objectFields(k, forDur=c.objectFor) = {
      'for': forDur,
      keep_firing_for: c.keepFiringFor,
      annotations: {
        account: t.account + '{{ $account }}',
        name: t.name(k) + '{{ $name }}',
        impact: t.impact + '{{ with $impact }}{{ . }}{{ else }}nothing the exporter watches{{ end }}',
        console_url: k.Console,
      } + (if k.ErrorInfo then { error_codes: t.codes(k) + '{{ $codes }}' } else {}),
    },

    // The description's opening: account, name, impact and codes set.
    local head(k) = t.account + t.name(k) + t.impact + (if k.ErrorInfo then t.codes(k) else '{{ $codes := "" -}}') + t.updated(k),
    local stops = '{{ with $impact }}It blocks {{ . }}.{{ else }}Nothing the exporter watches uses it: no assigned phone number, brand, campaign or verification; fix or delete it when convenient.{{ end }}',
    local codesLine = '{{ with $codes }}Error codes: {{ . }} (each explained at https://www.twilio.com/docs/errors/CODE).{{ else }}No error code reported.{{ end }}',

    // Given the policies snippet as extra (Trust Products), a bundle's
    // descriptions name its kind and policy, and say what a bundle of that
    // policy is for beside what uses this one.
    local kindOf(extra, object) = (if extra == '' then '' else '{{ with $kind }}{{ . }} {{ end }}') + object,
    local policyOf(extra) = if extra == '' then '' else '{{ with $info }}{{ with .Labels.policy_sid }}, policy {{ . }}{{ end }}{{ end }}',
    local affected(extra, when) = if extra == '' then '' else '\nAffected %s: {{ $affects }}.' % when,

    // The alerts about a TrustHub bundle of kind k (Customer-Profiles and
    // Trust Products), named Prefix....
    local bundleAlerts(k, prefix, where, extra='') = [
      rules('TwilioTrustHub%sRejected' % prefix, 'max by (account, sid, status) (%s)' % statusIs(k, k.Rejected), objectFields(k) {
        annotations+: {
          summary: t.account + t.name(k) + t.impact + 'Twilio rejected %s "{{ $name }}" ({{ $labels.sid }}) in {{ $account }}{{ with $impact }}: blocks {{ . }}{{ end }}' % k.Object,
          description: head(k) + extra + |||
            Twilio TrustHub rejected the %(object)s "{{ $name }}" ({{ $labels.sid }}%(policy)s, {{ $account }}). %(stops)s%(affected)s
            %(codes)s
            Last changed: {{ $updated }}.
            Open it in the Twilio Console (%(where)s, {{ $labels.sid }}), correct what the evaluation names, and submit it for review again.
          ||| % { object: kindOf(extra, k.Object), policy: policyOf(extra), stops: stops, affected: affected(extra, 'until it is fixed and approved again'), codes: codesLine, where: where },
        },
      }),
      rules('TwilioTrustHub%sExpiringSoon' % prefix, |||
        (
          max by (account, sid) (%(valid)s) - time()
            > %(very)d * 86400 <= %(soon)d * 86400
        )
        and on (account, sid) (%(approved)s)
      ||| % { valid: k.ValueFamilies.valid_until, very: c.expiringVerySoonDays, soon: c.expiringSoonDays, approved: statusIs(k, [k.Approved]) }, objectFields(k) {
        annotations+: {
          summary: t.name(k) + '%s "{{ $name }}" ({{ $labels.sid }}) expires in {{ $value | humanizeDuration }}' % k.Object,
          description: head(k) + extra + |||
            The approval of the %(object)s "{{ $name }}" ({{ $labels.sid }}%(policy)s, {{ $account }}) ends in {{ $value | humanizeDuration }}.
            When it lapses, what it is used for stops: {{ with $impact }}{{ . }}{{ else }}nothing the exporter watches{{ end }}.%(affected)s
            Renew it in the Twilio Console (%(where)s) before then.
          ||| % { object: kindOf(extra, k.Object), policy: policyOf(extra), affected: affected(extra, 'then'), where: where },
        },
      }),
      rules('TwilioTrustHub%sExpiringVerySoon' % prefix, |||
        (
          max by (account, sid) (%(valid)s) - time()
            > 0 <= %(very)d * 86400
        )
        and on (account, sid) (%(approved)s)
      ||| % { valid: k.ValueFamilies.valid_until, very: c.expiringVerySoonDays, approved: statusIs(k, [k.Approved]) }, objectFields(k) {
        annotations+: {
          summary: t.name(k) + t.impact + '%s "{{ $name }}" ({{ $labels.sid }}) expires in {{ $value | humanizeDuration }}{{ with $impact }}: then it stops {{ . }}{{ end }}' % k.Object,
          description: head(k) + extra + |||
            The approval of the %(object)s "{{ $name }}" ({{ $labels.sid }}%(policy)s, {{ $account }}) ends in {{ $value | humanizeDuration }}.
            When it lapses, what it is used for stops: {{ with $impact }}{{ . }}{{ else }}nothing the exporter watches{{ end }}.%(affected)s
            Renew it in the Twilio Console (%(where)s) now.
          ||| % { object: kindOf(extra, k.Object), policy: policyOf(extra), affected: affected(extra, 'then'), where: where },
        },
      }),
      rules('TwilioTrustHub%sExpired' % prefix, |||
        (time() - max by (account, sid) (%(valid)s) >= 0)
        and on (account, sid) (%(approved)s)
      ||| % { valid: k.ValueFamilies.valid_until, approved: statusIs(k, [k.Approved]) }, objectFields(k) {
        annotations+: {
          summary: t.account + t.name(k) + t.impact + '%s "{{ $name }}" ({{ $labels.sid }}) in {{ $account }} expired {{ $value | humanizeDuration }} ago{{ with $impact }}: blocks {{ . }}{{ end }}' % k.Object,
          description: head(k) + extra + |||
            The approval of the %(object)s "{{ $name }}" ({{ $labels.sid }}%(policy)s, {{ $account }}) ended {{ $value | humanizeDuration }} ago. %(stops)s%(affected)s
            Renew it in the Twilio Console (%(where)s), or delete it if it is no longer used.
          ||| % { object: kindOf(extra, k.Object), policy: policyOf(extra), stops: stops, affected: affected(extra, 'since then'), where: where },
        },
      }),
      rules('TwilioTrustHub%sStuckInReview' % prefix, |||
        (time() - max by (account, sid) (%(updated)s) > %(days)d * 86400)
        and on (account, sid) (%(reviewing)s)
      ||| % { updated: k.ValueFamilies.date_updated, days: c.stuckInReviewDays[k.Name], reviewing: statusIs(k, k.Reviewing) }, objectFields(k, c.stuckInReviewFor) {
        annotations+: {
          summary: t.name(k) + '%s "{{ $name }}" ({{ $labels.sid }}) has been in review for {{ $value | humanizeDuration }}' % k.Object,
          description: head(k) + |||
            The %(object)s "{{ $name }}" ({{ $labels.sid }}, {{ $account }}) has not changed for {{ $value | humanizeDuration }} and is still in review
            (over %(days)d days). Check its evaluation in the Twilio Console (%(where)s) and ask Twilio support if the review is stuck.{{ with $impact }}
            Waiting on it: {{ . }}.{{ end }}
          ||| % { object: k.Object, days: c.stuckInReviewDays[k.Name], where: where },
        },
      }),
    ],

    // The brand's TCR id, when it has one.
    local tcr = '{{ with $info }}{{ with .Labels.tcr_id }} (TCR {{ . }}){{ end }}{{ end }}',

    // Nothing the usage rules count uses a toll-free verification: what it
    // holds up is its own number, so that is its impact, not "nothing".
    local tfvFields(forDur=c.objectFor) = objectFields(tfv, forDur) {
      annotations+: {
        impact: t.info(tfv) + '1 toll-free number{{ with $info }}{{ with .Labels.tollfree_phone_number }} ({{ . }}){{ end }}{{ end }}',
      },
    },

    groups+: [
      {
        name: 'twilio_trusthub_profiles',
        rules: std.flattenArrays(bundleAlerts(cp, 'Profile', 'Trust Hub, Customer Profiles')),
      },
      {
        name: 'twilio_trusthub_trust_products',
        rules: std.flattenArrays(bundleAlerts(tp, 'TrustProduct', 'Trust Hub, Trust Products', policies)),
      },
      {
        name: 'twilio_trusthub_messaging',
        rules: std.flattenArrays([
          // A suspension halts every campaign of the brand (error 30990).
          // brand_registration_sid (the brand's own sid) lets the
          // suspension inhibit its campaigns' alerts in Alertmanager.
          rules('TwilioTrustHubA2PBrandSuspended', |||
            label_replace(
              max by (account, sid, status) (%s),
              "brand_registration_sid", "$1", "sid", "(.*)"
            )
          ||| % statusIs(brand, ['SUSPENDED']), objectFields(brand) {
            annotations+: {
              summary: t.account + t.info(brand) + t.impact + 'A2P 10DLC brand {{ $labels.sid }}' + tcr + ' in {{ $account }} is suspended{{ with $impact }}: blocks {{ . }}{{ end }}',
              description: head(brand) + |||
                Twilio suspended the A2P 10DLC brand {{ $labels.sid }}%(tcr)s in {{ $account }}. Every campaign under it is suspended with it:
                US long-code messages sent through them are refused with error 30990 (https://www.twilio.com/docs/errors/30990) until the suspension is lifted.
                %(stops)s
                Campaigns under it: {{ range $i, $c := printf "topk by (sid) (1, %(campaigns)s_info{brand_registration_sid=%%q})" $labels.sid | query | sortByLabel "sid" }}{{ if $i }}, {{ end }}{{ or $c.Labels.campaign_id $c.Labels.sid }}{{ with $c.Labels.usecase }} ({{ . }}){{ end }}{{ else }}none known to the exporter{{ end }}.
                %(codes)s
                Last changed: {{ $updated }}.
                Only Twilio Support can lift a suspension: find Twilio's suspension notice (e-mail, Support Center), open a case with the brand SID,
                and do not move the traffic to another brand or campaign meanwhile.
              ||| % { tcr: tcr, stops: stops, codes: codesLine, campaigns: campaign.Prefix },
            },
          }),
          rules('TwilioTrustHubA2PBrandFailed', |||
            label_replace(
              max by (account, sid, status) (%s),
              "brand_registration_sid", "$1", "sid", "(.*)"
            )
          ||| % statusIs(brand, ['FAILED']), objectFields(brand) {
            annotations+: {
              summary: t.account + t.info(brand) + t.impact + 'A2P 10DLC brand registration {{ $labels.sid }}' + tcr + ' in {{ $account }} failed{{ with $impact }}: blocks {{ . }}{{ end }}',
              description: head(brand) + |||
                The A2P 10DLC brand registration {{ $labels.sid }}%(tcr)s in {{ $account }} failed: the business information could not be verified.
                No campaign can be registered under it, so the business cannot send US long-code messages through it. %(stops)s
                %(codes)s
                Last changed: {{ $updated }}.
                Correct what the errors name in the Customer-Profile{{ with $info }}{{ with .Labels.customer_profile_bundle_sid }} ({{ . }}){{ end }}{{ with .Labels.a2p_profile_bundle_sid }}
                and the A2P messaging profile (Trust Product {{ . }}){{ end }}{{ end }} the brand was registered from, then resubmit the brand in the Twilio Console
                (Messaging, Regulatory Compliance, Brands, {{ $labels.sid }}).
              ||| % { tcr: tcr, stops: stops, codes: codesLine },
            },
          }),
          rules('TwilioTrustHubA2PBrandStuckInReview', |||
            label_replace(
              (time() - max by (account, sid) (%(updated)s) > %(days)d * 86400)
              and on (account, sid) (%(reviewing)s),
              "brand_registration_sid", "$1", "sid", "(.*)"
            )
          ||| % { updated: brand.ValueFamilies.date_updated, days: c.stuckInReviewDays[brand.Name], reviewing: statusIs(brand, brand.Reviewing) },
                objectFields(brand, c.stuckInReviewFor) {
            annotations+: {
              summary: t.info(brand) + 'A2P 10DLC brand {{ $labels.sid }}' + tcr + ' has been in review for {{ $value | humanizeDuration }}',
              description: head(brand) + |||
                The A2P 10DLC brand {{ $labels.sid }}%(tcr)s in {{ $account }} has not changed for {{ $value | humanizeDuration }} and is still pending or in
                review (over %(days)d days). Check it in the Twilio Console (Messaging, Regulatory Compliance, Brands) and ask Twilio support if vetting is stuck.
              ||| % { tcr: tcr, days: c.stuckInReviewDays[brand.Name] },
            },
          }),
          // Twilio gives campaign statuses only as examples: anything but
          // the known-good ones (and a null status, exported as unknown)
          // is a campaign that cannot send: FAILED, SUSPENDED, EXPIRED or
          // one Twilio adds later. The service and the brand are fixed
          // when the campaign is made, so they may be labels.
          rules('TwilioTrustHubA2PCampaignNotVerified', |||
            max by (account, sid, status) (%(status)s_status{status!~"%(good)s|unknown"} == 1)
            * on (account, sid) group_left (messaging_service_sid, brand_registration_sid)
            topk by (account, sid) (1, %(status)s_info)
          ||| % { status: campaign.Prefix, good: std.join('|', campaign.KnownGood) }, objectFields(campaign) {
            annotations+: {
              summary: t.account + t.name(campaign) + t.impact + 'A2P campaign {{ $name }} ({{ $labels.sid }}) in {{ $account }} is {{ $labels.status }}{{ with $impact }}: blocks {{ . }}{{ end }}',
              description: head(campaign) + |||
                The A2P 10DLC campaign {{ $name }} ({{ $labels.sid }}{{ with $info }}{{ with .Labels.usecase }}, use case {{ . }}{{ end }}{{ end }}) of Messaging Service
                {{ $labels.messaging_service_sid }} in {{ $account }} is {{ $labels.status }}, not VERIFIED: US long-code messages the service sends
                through it are refused or filtered. %(stops)s
                %(codes)s
                Last changed: {{ $updated }}.
                Open it in the Twilio Console (Messaging, Regulatory Compliance, Campaigns): a FAILED campaign names what to correct before you
                resubmit it; a SUSPENDED or EXPIRED one needs Twilio Support{{ with $labels.brand_registration_sid }} (brand {{ . }}){{ end }}.
              ||| % { stops: stops, codes: codesLine },
            },
          }),
          rules('TwilioTrustHubA2PCampaignStuckInReview', |||
            (
              (time() - max by (account, sid) (%(updated)s) > %(days)d * 86400)
              and on (account, sid) (%(reviewing)s)
            )
            * on (account, sid) group_left (messaging_service_sid, brand_registration_sid)
            topk by (account, sid) (1, %(prefix)s_info)
          ||| % { updated: campaign.ValueFamilies.date_updated, days: c.stuckInReviewDays[campaign.Name], reviewing: statusIs(campaign, campaign.Reviewing), prefix: campaign.Prefix },
                objectFields(campaign, c.stuckInReviewFor) {
            annotations+: {
              summary: t.name(campaign) + 'A2P campaign {{ $name }} ({{ $labels.sid }}) has been in vetting for {{ $value | humanizeDuration }}',
              description: head(campaign) + |||
                The A2P 10DLC campaign {{ $name }} ({{ $labels.sid }}) of Messaging Service {{ $labels.messaging_service_sid }} in {{ $account }} has not
                changed for {{ $value | humanizeDuration }} and is still in vetting (over %(days)d days). Check it in the Twilio Console
                (Messaging, Regulatory Compliance, Campaigns) and ask Twilio support if it is stuck.
              ||| % { days: c.stuckInReviewDays[campaign.Name] },
            },
          }),
          // A rejected verification stops nothing that worked (the number
          // could not send before): a ticket. Its edit window closing is
          // the moment to act: after it, a new submission waits in the
          // standard review queue for weeks.
          rules('TwilioTrustHubTollfreeVerificationRejected', 'max by (account, sid, status) (%s)' % statusIs(tfv, ['TWILIO_REJECTED']), tfvFields() {
            annotations+: {
              summary: t.account + t.info(tfv) + 'Twilio rejected the toll-free verification of {{ with $info }}{{ .Labels.tollfree_phone_number }} ("{{ .Labels.business_name }}", {{ end }}{{ $labels.sid }}{{ with $info }}){{ end }} in {{ $account }}',
              description: head(tfv) + |||
                Twilio rejected the toll-free verification {{ $labels.sid }}{{ with $info }} of {{ .Labels.tollfree_phone_number }} for "{{ .Labels.business_name }}"{{ end }}
                ({{ $account }}{{ with $info }}{{ with .Labels.trust_product_sid }}, Trust Product {{ . }}{{ end }}{{ with .Labels.customer_profile_sid }}, Customer-Profile {{ . }}{{ end }}{{ end }}).
                Messages from that number to US and Canadian numbers are blocked until a verification is approved.
                Time left to edit and resubmit it: {{ with printf "max(%(edit)s{account=%%q,sid=%%q})" $labels.account $labels.sid | query }}{{ $until := . | first | value | humanizeTimestamp }}{{ with printf "max(%(edit)s{account=%%q,sid=%%q}) - time() > 0" $labels.account $labels.sid | query }}{{ . | first | value | humanizeDuration }} (until {{ $until }}){{ else }}none, the edit window closed at {{ $until }}: a new submission waits in the standard review queue{{ end }}{{ else }}unknown{{ end }}.
                Last changed: {{ $updated }}.
                Read the rejection reasons in the Twilio Console (Messaging, Regulatory Compliance, Toll-free verification), correct what they name and resubmit it.
              ||| % { edit: tfv.ValueFamilies.edit_expiration },
            },
          }),
          rules('TwilioTrustHubTollfreeVerificationEditWindowClosing', |||
            (max by (account, sid) (%(edit)s) - time() > 0 <= %(hours)d * 3600)
            * on (account, sid) group_left (status)
            max by (account, sid, status) (%(rejected)s)
          ||| % { edit: tfv.ValueFamilies.edit_expiration, hours: c.editWindowHours, rejected: statusIs(tfv, ['TWILIO_REJECTED']) }, tfvFields() {
            annotations+: {
              summary: t.account + t.info(tfv) + 'The toll-free verification of {{ with $info }}{{ .Labels.tollfree_phone_number }}{{ else }}{{ $labels.sid }}{{ end }} in {{ $account }} can be edited for {{ $value | humanizeDuration }} more',
              description: head(tfv) + |||
                Twilio rejected the toll-free verification {{ $labels.sid }}{{ with $info }} of {{ .Labels.tollfree_phone_number }} for "{{ .Labels.business_name }}"{{ end }}
                ({{ $account }}), and the window to edit and resubmit it closes in {{ $value | humanizeDuration }}. A verification resubmitted in the
                window keeps its place in review; after it, a new submission waits in the standard review queue, and the number stays blocked
                for US and Canadian messages meanwhile. Correct what the rejection reasons name in the Twilio Console (Messaging, Regulatory
                Compliance, Toll-free verification) and resubmit it now.
              |||,
            },
          }),
          rules('TwilioTrustHubTollfreeVerificationStuckInReview', |||
            (time() - max by (account, sid) (%(updated)s) > %(days)d * 86400)
            and on (account, sid) (%(reviewing)s)
          ||| % { updated: tfv.ValueFamilies.date_updated, days: c.stuckInReviewDays[tfv.Name], reviewing: statusIs(tfv, tfv.Reviewing) },
                tfvFields(c.stuckInReviewFor) {
            annotations+: {
              summary: t.info(tfv) + 'The toll-free verification of {{ with $info }}{{ .Labels.tollfree_phone_number }}{{ else }}{{ $labels.sid }}{{ end }} has been in review for {{ $value | humanizeDuration }}',
              description: head(tfv) + |||
                The toll-free verification {{ $labels.sid }} in {{ $account }} has not changed for {{ $value | humanizeDuration }} and is still in review
                (over %(days)d days). Check it in the Twilio Console (Messaging, Regulatory Compliance, Toll-free verification).
              ||| % { days: c.stuckInReviewDays[tfv.Name] },
            },
          }),
        ]),
      },
    ],
  },
}
