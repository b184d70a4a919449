// Go template snippets for alert annotations. Prometheus expands each
// annotation on its own, so a snippet that sets a variable comes first in
// every annotation that uses it. Each ends with `-}}`, so it leaves no
// white space behind.
{
  // $account names the account as twilio_trusthub_account_info does:
  // "account main" for a configured account, 'subaccount "Acme" (AC...) of
  // isv' for a discovered one (its account label is its SID, which says
  // nothing to a reader). Replicas are reduced with max, and `first` takes
  // one row should two briefly disagree on a name. Without account_info (an
  // exporter older than discovery) it falls back to the account label.
  account: '{{ $account := print "account " $labels.account }}{{ with printf "max by (friendly_name, parent) (twilio_trusthub_account_info{account=%q})" $labels.account | query }}{{ $name := . | first | label "friendly_name" }}{{ $named := $labels.account }}{{ if and $name (ne $name $labels.account) }}{{ $named = printf `"%s" (%s)` $name $labels.account }}{{ end }}{{ with . | first | label "parent" }}{{ $account = printf "subaccount %s of %s" $named . }}{{ else }}{{ $account = print "account " $named }}{{ end }}{{ end -}}',

  // $info is the object's info series (one of them, should replicas
  // disagree), for its names: kind k's.
  info(k): '{{ $info := "" }}{{ with printf "topk(1, ' + k.Prefix + '_info{account=%q,sid=%q})" $labels.account $labels.sid | query }}{{ $info = . | first }}{{ end -}}',

  // $name names the object for people, from $info (see info): its
  // NameLabel, or its sid.
  name(k): self.info(k) + '{{ $name := $labels.sid }}{{ with $info }}{{ with .Labels.' + k.NameLabel + ' }}{{ $name = . }}{{ end }}{{ end -}}',

  // $impact says what uses the object, from the usage recording rule:
  // "3 campaigns, 41 phone numbers"; empty when nothing the exporter watches
  // does.
  impact: '{{ $impact := "" }}{{ range $i, $u := printf "sid_uses:twilio_trusthub_usage:count{sid=%q} > 0" $labels.sid | query | sortByLabel "uses" }}{{ if $i }}{{ $impact = print $impact ", " }}{{ end }}{{ $n := $u | value }}{{ $what := $u.Labels.uses }}{{ if eq $n 1.0 }}{{ $what = reReplaceAll "s$" "" $what }}{{ end }}{{ $impact = printf "%s%.0f %s" $impact $n $what }}{{ end -}}',

  // $codes are the object's error codes, each once, in order: "30990,
  // 30701"; empty when it has none. Kind k must have an error_info family.
  codes(k): '{{ $codes := "" }}{{ range $i, $e := printf "max by (code) (' + k.Prefix + '_error_info{account=%q,sid=%q})" $labels.account $labels.sid | query | sortByLabel "code" }}{{ if $i }}{{ $codes = print $codes ", " }}{{ end }}{{ $codes = print $codes $e.Labels.code }}{{ end -}}',

  // $updated is when the object last changed, for people.
  updated(k): '{{ $updated := "unknown" }}{{ with printf "max(' + k.Prefix + '_updated_timestamp_seconds{account=%q,sid=%q})" $labels.account $labels.sid | query }}{{ $updated = . | first | value | humanizeTimestamp }}{{ end -}}',
}
