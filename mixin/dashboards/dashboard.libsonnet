// The Grafana dashboard: what needs a person first, at any number of
// accounts. No panel draws more than 50 series or rows, however many
// accounts the exporter watches: tables are top-N of the problems, counts
// are summed across accounts, and the $account variable drills down. Every
// query reduces replicas first (max by (account, ...)), so two exporters
// give the figures of one. SIDs link to the Twilio Console page of their
// kind, error codes to Twilio's page for the code.
//
// The end-to-end test runs every query against Prometheus 2 and 3 on an
// estate of 1,000 subaccounts and counts what each returns; another test
// decodes the generated JSON strictly into the Grafana Foundation SDK's
// dashboard types.
local kinds = (import '../lib/kinds.libsonnet').Kinds;

local cp = kinds.customer_profiles;
local tp = kinds.trust_products;
local brand = kinds.brand_registrations;
local campaign = kinds.a2p_campaigns;
local tfv = kinds.tollfree_verifications;
local all = [cp, tp, brand, campaign, tfv];

local ds = { type: 'prometheus', uid: '${datasource}' };
// sel selects the exporter's series the variables pick.
local sel = 'job=~"$job",account=~"$account"';
// The process's own families (twilio_trusthub_exporter_*) have no account
// label: selected by account they would vanish whenever one is chosen.
local processSel = 'job=~"$job"';
local usage = 'sid:twilio_trusthub_usage:sum';

// Top-N bounds every list: what a person reads in one look.
local topN = 50;

local trim(s) = std.rstripChars(s, '\n');
local upperFirst(s) = std.asciiUpper(s[0]) + s[1:];

local target(expr, legend='', instant=false, ref='A', format='time_series') = {
  datasource: ds,
  expr: trim(expr),
  refId: ref,
  legendFormat: legend,
  instant: instant,
  range: !instant,
  format: format,
};

// A data link on one column of a table.
local columnLinks(column, title, url) = {
  matcher: { id: 'byName', options: column },
  properties: [{ id: 'links', value: [{ title: title, url: url, targetBlank: true }] }],
};
local codeLinks = columnLinks('code', 'Twilio error ${__value.raw}', 'https://www.twilio.com/docs/errors/${__value.raw}');
local consoleLinks(k) = columnLinks('sid', 'Find ${__value.raw} in the Twilio Console (%s)' % k.Title, k.Console);
local hidden(column) = { matcher: { id: 'byName', options: column }, properties: [{ id: 'custom.hidden', value: true }] };

local fieldConfig(unit='short', overrides=[], thresholds=null) = {
  defaults: {
    unit: unit,
  } + (if thresholds == null then {} else { thresholds: { mode: 'absolute', steps: thresholds } }),
  overrides: overrides,
};

local stat(title, description, targets, unit='short', thresholds=null) = {
  type: 'stat',
  title: title,
  description: description,
  datasource: ds,
  targets: targets,
  fieldConfig: fieldConfig(unit, thresholds=thresholds),
  options: {
    graphMode: 'none',
    colorMode: if thresholds == null then 'none' else 'background',
    justifyMode: 'auto',
    textMode: 'value_and_name',
    wideLayout: true,
    showPercentChange: false,
    percentChangeColorMode: 'standard',
    orientation: 'auto',
    reduceOptions: { values: false, calcs: ['lastNotNull'], fields: '' },
  },
};

// A table of one instant query; columns the query's labels and its value
// (named valueName), the hide list left out.
local table(title, description, expr, valueName, overrides=[], hide=[], unit='short', sortDesc=true) = {
  type: 'table',
  title: title,
  description: description,
  datasource: ds,
  targets: [target(expr, instant=true, format='table')],
  transformations: [{ id: 'organize', options: { excludeByName: { Time: true } + { [h]: true for h in hide }, renameByName: { Value: valueName } } }],
  fieldConfig: fieldConfig(unit, overrides),
  options: { showHeader: true, cellHeight: 'sm', frameIndex: 0, sortBy: [{ displayName: valueName, desc: sortDesc }] },
};

local bars(title, description, expr, legend, overrides=[]) = {
  type: 'bargauge',
  title: title,
  description: description,
  datasource: ds,
  targets: [target(expr, legend, instant=true)],
  fieldConfig: fieldConfig('short', overrides),
  options: {
    orientation: 'horizontal',
    displayMode: 'basic',
    valueMode: 'color',
    namePlacement: 'auto',
    showUnfilled: true,
    sizing: 'auto',
    minVizWidth: 8,
    minVizHeight: 16,
    maxVizHeight: 300,
    reduceOptions: { values: false, calcs: ['lastNotNull'], fields: '' },
    legend: { showLegend: false, displayMode: 'list', placement: 'bottom', calcs: [] },
  },
};

local timeseries(title, description, targets, unit='short') = {
  type: 'timeseries',
  title: title,
  description: description,
  datasource: ds,
  targets: targets,
  fieldConfig: fieldConfig(unit),
  options: {
    legend: { showLegend: true, displayMode: 'table', placement: 'right', calcs: ['lastNotNull'] },
    tooltip: { mode: 'multi', sort: 'desc' },
  },
};

// The objects of kind k with a problem, one series per object with
// labels account, sid, status: the rejected (or not known-good) ones, and
// for a kind that expires, the approved ones whose approval has lapsed
// (status "expired").
local problems(k) =
  local statuses = if std.objectHas(k, 'KnownGood') then
    '%s_status{%s,status!~"%s|unknown"} == 1' % [k.Prefix, sel, std.join('|', k.KnownGood)]
  else
    '%s_status{%s,status=~"%s"} == 1' % [k.Prefix, sel, std.join('|', k.Rejected)];
  local rejected = 'max by (account, sid, status) (%s)' % statuses;
  if !k.Expires then rejected else |||
    %(rejected)s
    or
    label_replace(
      (time() - max by (account, sid) (%(valid)s{%(sel)s}) >= 0)
      and on (account, sid) (%(prefix)s_status{%(sel)s,status="%(approved)s"} == 1),
      "status", "expired", "", ""
    )
  ||| % { rejected: rejected, valid: k.ValueFamilies.valid_until, sel: sel, prefix: k.Prefix, approved: k.Approved };

// byImpact values each series of v (one per object, with a sid) at what
// uses its object, 0 when nothing does.
local byImpact(v) = |||
  (%(v)s) * 0 + on (sid) group_left () %(usage)s
  or
  (%(v)s) * 0
||| % { v: trim(v), usage: usage };

// kindLabel adds kind="Title" to v.
local kindLabel(k, v) = 'label_replace(%s, "kind", "%s", "", "")' % [trim(v), k.Object];

// The dashboard's rows: each a title and its panels, with their width and
// height in grid units (24 wide); placed left to right, then down.
local rows = [
  {
    title: 'What needs action',
    panels: [
      [6, 4, stat('Exporter targets up', 'Targets of the exporter\'s job that Prometheus can scrape now, from its own up series: 0 means nothing is watched.',
                  [target('sum by (job) (up{job=~"$job"}) or vector(0)', '{{job}}', instant=true)], thresholds=[{ color: 'red', value: null }, { color: 'green', value: 1 }])],
      [6, 4, stat('Accounts listed / failing', 'Accounts the exporter lists, and those whose last listing of any resource failed on some replica.', [
        target('count(max by (account) (twilio_trusthub_up{%s}))' % sel, 'listed', instant=true),
        target('count(max by (account) (twilio_trusthub_up{%s} == 0)) or vector(0)' % sel, 'failing', instant=true, ref='B'),
      ])],
      [12, 4, stat('Firing alerts', 'This exporter\'s alerts firing now, by severity: critical pages (something in use stops), warning tickets.',
                   [target('sum by (severity) (ALERTS{alertname=~"TwilioTrustHub.+",alertstate="firing",account=~"$account"}) or on () vector(0)', '{{severity}}', instant=true)])],
      [24, 10, table('Problems in use, by what they stop (top %d)' % topN,
                     'Objects with a problem that something the exporter watches uses (phone numbers, brands, campaigns, verifications): what pages. Sorted by how much it stops.',
                     'topk(%d,\n  %s\n  * on (sid) group_left (kind, account, status) (\n%s\n  )\n)' % [
                       topN, usage,
                       std.join('\n    or\n', ['    ' + kindLabel(k, problems(k)) for k in all]),
                     ],
                     'uses',
                     [columnLinks('sid', 'Find ${__value.raw} in the Twilio Console', 'https://console.twilio.com/')])],
      [12, 9, table('Accounts with the most problems (top %d)' % topN,
                    'Objects with a problem per account (rejected, suspended, failed, expired), named by account_info: drill down with the account variable.',
                    'topk(%d,\n  sum by (account) (\n%s\n  )\n  * on (account) group_left (friendly_name, parent) max by (account, friendly_name, parent) (twilio_trusthub_account_info{%s})\n)' % [
                      topN, std.join('\n    or\n', ['    count by (account, kind) (%s)' % kindLabel(k, problems(k)) for k in all]), sel,
                    ],
                    'problems')],
      [12, 9, table('Expiring soonest (top %d, not yet expired)' % topN,
                    'Approved profiles and Trust Products whose approval ends soonest, in days; the expired are in the tables above.',
                    'bottomk(%d,\n%s\n)' % [topN, std.join('\n  or\n', [
                      '  ' + kindLabel(k, '(max by (account, sid) (%s{%s}) - time() > 0) / 86400 and on (account, sid) (%s_status{%s,status="%s"} == 1)' % [
                        k.ValueFamilies.valid_until, sel, k.Prefix, sel, k.Approved,
                      ])
                      for k in [cp, tp]
                    ])],
                    'days left', [columnLinks('sid', 'Find ${__value.raw} in the Twilio Console', 'https://console.twilio.com/')], unit='d', sortDesc=false)],
    ],
  },
] + [
  {
    title: upperFirst(k.Title),
    collapsed: k != cp,
    panels: [
      [8, 7, stat('%s by status' % upperFirst(k.Title), '%s by status, summed across the accounts chosen.' % upperFirst(k.Title),
                  [target('sum by (status) (max by (account, status) (%s{%s}))' % [k.Plural, sel], '{{status}}', instant=true)])],
      [8, 7, bars('%s error codes (top 10)' % upperFirst(k.Object), 'The codes most %s carry, each object counted once per code; a code links to Twilio\'s page for it.' % k.Title,
                  'topk(10, sum by (code) (max by (account, code) (%s_errors{%s})))' % [k.Prefix, sel], '{{code}}',
                  [{ matcher: { id: 'byRegexp', options: '.*' }, properties: [{ id: 'links', value: [{ title: 'Twilio error ${__field.labels.code}', url: 'https://www.twilio.com/docs/errors/${__field.labels.code}', targetBlank: true }] }] }])],
      [8, 7, timeseries('%s by status over time' % upperFirst(k.Title), 'The same counts over time.',
                        [target('sum by (status) (max by (account, status) (%s{%s}))' % [k.Plural, sel], '{{status}}')])],
      [24, 9, table('%s with a problem (top %d, by what they stop)' % [upperFirst(k.Title), topN],
                    'Each %s with a problem, valued at what uses it (0: nothing the exporter watches). Names are on the info series; the SID finds it in the Console.' % k.Short,
                    'topk(%d,\n%s\n)' % [topN, byImpact(problems(k))], 'uses', [consoleLinks(k)])],
    ] + (if k.ErrorInfo then [
           [24, 8, table('Error codes of %s with a problem (top %d)' % [k.Title, topN], 'Each code of each %s with a problem.' % k.Short,
                         'topk(%d,\n  max by (account, sid, code) (%s_error_info{%s})\n  and on (account, sid) (%s)\n)' % [topN, k.Prefix, sel, trim(problems(k))],
                         'n', [consoleLinks(k), codeLinks], hide=['n'])],
         ] else []),
  }
  for k in all
] + [
  {
    title: 'Accounts',
    collapsed: true,
    panels: [
      [12, 8, table('Accounts (top %d by name)' % topN, 'Every configured and discovered account, named: pick one in the account variable to see it alone.',
                    'bottomk(%d, max by (account, friendly_name, parent, status) (twilio_trusthub_account_info{%s}))' % [topN, sel], 'n', hide=['n'])],
      [6, 8, stat('Accounts per parent', 'Discovered subaccounts per parent, and the configured accounts.',
                  [target('topk(%d, label_replace(count by (parent) (max by (account, parent) (twilio_trusthub_account_info{%s})), "parent", "configured", "parent", ""))' % [topN, sel], '{{parent}}', instant=true)])],
      [6, 8, stat('Subaccount discovery', '1 when the parent\'s last reading of its subaccount list succeeded; -1 when the exporter discovers nothing.',
                  [target('(min by (account) (twilio_trusthub_discovery_up{%s})) or on () -1 * vector(1)' % sel, '{{account}}', instant=true)],
                  thresholds=[{ color: 'red', value: null }, { color: 'green', value: 1 }])],
    ],
  },
  {
    title: 'Exporter health',
    collapsed: true,
    panels: [
      [8, 8, stat('Resources failing to list', 'Accounts whose last listing of each resource failed (on some replica); 0 for every resource when all list.',
                  [target('sum by (resource) (max by (account, resource) (twilio_trusthub_resource_up{%s} == bool 0))' % sel, '{{resource}}', instant=true)],
                  thresholds=[{ color: 'green', value: null }, { color: 'red', value: 1 }])],
      [8, 8, timeseries('Slowest listings (top 10)', 'The ten slowest last listings, by account and resource.',
                        [target('topk(10, max by (account, resource) (twilio_trusthub_listing_duration_seconds{%s}))' % sel, '{{account}} {{resource}}')], 's')],
      [8, 8, timeseries('Oldest data (top 10)', 'Seconds since the last successful listing, the ten oldest; over an hour is stale.',
                        [target('topk(10, time() - max by (account, resource) (twilio_trusthub_last_success_timestamp_seconds{%s}))' % sel, '{{account}} {{resource}}')], 's')],
      [8, 8, timeseries('API requests by status code', 'Requests to Twilio per second, by resource and answer, across the accounts chosen: each replica really calls Twilio, so replicas add up.',
                        [target('sum by (resource, code) (rate(twilio_trusthub_api_requests_total{%s}[$__rate_interval]))' % sel, '{{resource}} {{code}}')], 'reqps')],
      [8, 8, timeseries('Failed listings by reason', 'Failed listings per interval, by reason, across every account and replica (each replica counts its own, in its /metrics or /exporter-metrics): the account variable does not apply.',
                        [target('sum by (reason) (increase(twilio_trusthub_exporter_listing_errors_total{%s}[$__rate_interval]))' % processSel, '{{reason}}')])],
      [8, 8, timeseries('Failed counts of what uses objects', 'Failed listings of what uses an object with a problem, by resource: while they fail, alerts may ticket where they would page.',
                        [target('sum by (resource) (increase(twilio_trusthub_usage_listing_errors_total{%s}[$__rate_interval]))' % sel, '{{resource}}')])],
    ],
  },
];

// layout places the rows' panels and numbers everything.
local layout(rows) =
  local place(row, y0, id0) =
    std.foldl(function(acc, p)
      local w = p[0], h = p[1];
      local x = if acc.x + w > 24 then 0 else acc.x;
      local y = if acc.x + w > 24 then acc.y + acc.h else acc.y;
      local rowH = if acc.x + w > 24 then h else std.max(acc.h, h);
      acc {
        x: x + w,
        y: y,
        h: rowH,
        id: acc.id + 1,
        panels+: [p[2] { id: acc.id, gridPos: { x: x, y: y, w: w, h: h } }],
      }, row.panels, { x: 0, y: y0, h: 0, id: id0, panels: [] });
  std.foldl(function(acc, row)
    local collapsed = std.get(row, 'collapsed', false);
    local placed = place(row, acc.y + 1, acc.id + 1);
    local rowPanel = { type: 'row', id: acc.id, title: row.title, collapsed: collapsed, gridPos: { x: 0, y: acc.y, w: 24, h: 1 }, panels: if collapsed then placed.panels else [] };
    acc {
      id: placed.id,
      y: if collapsed then acc.y + 1 else placed.y + placed.h,
      panels+: [rowPanel] + (if collapsed then [] else placed.panels),
    }, rows, { id: 1, y: 0, panels: [] }).panels;

{
  uid: 'twilio-trusthub',
  title: 'Twilio compliance (TrustHub, A2P, toll-free)',
  description: "Twilio compliance objects watched by twilio_trusthub_exporter: what needs action first, then each kind, the accounts and the exporter's health.",
  tags: ['twilio', 'trusthub', 'compliance'],
  editable: true,
  graphTooltip: 1,
  timezone: 'browser',
  refresh: '1m',
  schemaVersion: 41,
  time: { from: 'now-24h', to: 'now' },
  annotations: { list: [] },
  links: [],
  templating: {
    list: [
      { type: 'datasource', name: 'datasource', label: 'Data source', query: 'prometheus', hide: 0 },
      {
        type: 'query',
        name: 'job',
        label: 'Job',
        description: "The exporter's scrape job.",
        datasource: ds,
        query: { query: 'label_values(twilio_trusthub_up, job)', refId: 'job' },
        definition: 'label_values(twilio_trusthub_up, job)',
        refresh: 2,
        includeAll: true,
        allValue: '.+',
        multi: true,
        sort: 1,
        current: { text: 'All', value: '$__all' },
      },
      {
        type: 'query',
        name: 'account',
        label: 'Account',
        description: 'Configured accounts by name, discovered subaccounts by their Twilio friendly name.',
        datasource: ds,
        // Grafana names each option by the "text" group and selects by the
        // "value" one: a subaccount shows its friendly name.
        query: { query: 'query_result(max by (account, friendly_name) (twilio_trusthub_account_info{job=~"$job"}))', refId: 'account' },
        definition: 'query_result(max by (account, friendly_name) (twilio_trusthub_account_info{job=~"$job"}))',
        regex: '/account="(?<value>[^"]*)",friendly_name="(?<text>[^"]*)"/',
        refresh: 2,
        includeAll: true,
        allValue: '.*',
        multi: true,
        sort: 5,
        current: { text: 'All', value: '$__all' },
      },
    ],
  },
  panels: layout(rows),
}
