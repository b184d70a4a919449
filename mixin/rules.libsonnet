// Recording rules: what uses each object, so that an alert knows whether
// its problem stops anything (and pages) or not (and tickets), and can say
// what: "blocks 3 campaigns and 41 phone numbers".
//
// sid_uses:twilio_trusthub_usage:count{sid, uses} counts what uses the
// object sid, by what: the channel endpoints assigned to a profile or
// Trust Product ("phone numbers", or "<type> endpoints"), the brands built
// on it, the toll-free verifications that name it, the campaigns under a
// brand, the phone numbers of a campaign's Messaging Service and of every
// service a brand's campaigns are in. sid:twilio_trusthub_usage:sum adds
// them up per object.
//
// Keyed by sid alone: sids are unique across Twilio, and a brand may be
// built on a profile of another account (an ISV's). Every input is reduced
// over replicas with max first, so two exporters watching the same account
// count once.
local kinds = (import 'lib/kinds.libsonnet').Kinds;

// dependents counts the objects of kind k whose info label ref names each
// sid, as uses.
local dependents(k, ref, uses) = |||
  label_replace(
    count by (sid) (
      label_replace(
        label_replace(max by (sid, %(ref)s) (%(info)s{%(ref)s!=""}), "dependent", "$1", "sid", "(.*)"),
        "sid", "$1", "%(ref)s", "(.*)"
      )
    ),
    "uses", "%(uses)s", "", ""
  )
||| % { ref: ref, info: k.Prefix + '_info', uses: uses };

// endpoints counts the channel endpoints assigned to each bundle of kind
// k, by type: a phone number is the common one.
local endpoints(k) = |||
  sum without (type) (
    label_replace(
      label_replace(
        sum by (sid, type) (max by (account, sid, type) (%(metric)s)),
        "uses", "$1 endpoints", "type", "(.+)"
      ),
      "uses", "phone numbers", "type", "phone-number"
    )
  )
||| % { metric: k.Usage.Metric };

// serviceNumbers are the phone numbers of each campaign's Messaging Service
// (known for the services with a campaign that is not verified), summed by
// label by: the campaign (sid), or its brand (brand_registration_sid), each
// service counted once per brand.
local serviceNumbers(by) = |||
  sum by (%(by)s) (
    max by (%(by)s, messaging_service_sid) (%(info)s{%(by)s!=""})
    * on (messaging_service_sid) group_left ()
    max by (messaging_service_sid) (%(numbers)s)
  )
||| % { by: by, info: kinds.a2p_campaigns.Prefix + '_info', numbers: kinds.a2p_campaigns.Usage.Metric };

// The parts of the count, each labelled from so that no two can have the
// same labels (which would fail the rule), whatever the data.
local parts = [
  { from: 'customer_profile_endpoints', expr: endpoints(kinds.customer_profiles) },
  { from: 'trust_product_endpoints', expr: endpoints(kinds.trust_products) },
  { from: 'brands_on_customer_profile', expr: dependents(kinds.brand_registrations, 'customer_profile_bundle_sid', 'brands') },
  { from: 'brands_on_trust_product', expr: dependents(kinds.brand_registrations, 'a2p_profile_bundle_sid', 'brands') },
  { from: 'verifications_on_customer_profile', expr: dependents(kinds.tollfree_verifications, 'customer_profile_sid', 'toll-free verifications') },
  { from: 'verifications_on_trust_product', expr: dependents(kinds.tollfree_verifications, 'trust_product_sid', 'toll-free verifications') },
  { from: 'campaigns_of_brand', expr: dependents(kinds.a2p_campaigns, 'brand_registration_sid', 'campaigns') },
  {
    from: 'numbers_of_campaign',
    expr: 'label_replace(\n%s,\n  "uses", "phone numbers", "", ""\n)\n' % std.rstripChars(serviceNumbers('sid'), '\n'),
  },
  {
    from: 'numbers_of_brand',
    expr: 'label_replace(\n  sum by (sid) (label_replace(\n%s,\n  "sid", "$1", "brand_registration_sid", "(.*)")),\n  "uses", "phone numbers", "", ""\n)\n'
          % std.rstripChars(serviceNumbers('brand_registration_sid'), '\n'),
  },
];

local indent(s, by) = std.join('\n', [if l == '' then l else by + l for l in std.split(std.rstripChars(s, '\n'), '\n')]);

{
  prometheusRules+:: {
    groups+: [
      {
        name: 'twilio_trusthub_usage',
        rules: [
          {
            record: 'sid_uses:twilio_trusthub_usage:count',
            expr: 'sum by (sid, uses) (\n' + std.join('\n  or\n', [
              '  label_replace(\n%s,\n    "from", "%s", "", ""\n  )' % [indent(p.expr, '    '), p.from]
              for p in parts
            ]) + '\n)\n',
          },
          { record: 'sid:twilio_trusthub_usage:sum', expr: 'sum by (sid) (sid_uses:twilio_trusthub_usage:count)' },
        ],
      },
    ],
  },
}
