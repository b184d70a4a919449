package e2e

import (
	"fmt"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

	"go.yaml.in/yaml/v3"
)

// runbookBase is where every alert's runbook_url points, followed by
// "#" and the anchor GitHub gives the alert's section: the runbooks as a
// reader of an alert opens them.
const runbookBase = "https://github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/blob/main/docs/runbooks.md"

// ruleFile is the part of a Prometheus rule file that the runbook check
// reads; whether the rest is valid is promtool's to say (rules_test.go).
type ruleFile struct {
	Groups []struct {
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// markdown is what the check needs from the runbooks: the anchors GitHub
// makes of the headings, the "## " section titles, and the in-page links.
type markdown struct {
	anchors  map[string]bool
	sections []string
	links    []string
}

var (
	headingRE    = regexp.MustCompile(`^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$`)
	fenceRE      = regexp.MustCompile("^ {0,3}(```|~~~)")
	codeSpanRE   = regexp.MustCompile("`[^`]*`")
	inPageLinkRE = regexp.MustCompile(`\]\(#([^)\s]+)\)`)
)

// parseMarkdown reads headings and in-page links outside fenced code: the
// runbooks' PromQL and shell blocks hold lines starting with "#" that are
// comments, not headings.
func parseMarkdown(text string) markdown {
	md := markdown{anchors: map[string]bool{}}
	seen := map[string]int{}
	fence := ""
	for _, line := range strings.Split(text, "\n") {
		if m := fenceRE.FindStringSubmatch(line); m != nil {
			switch fence {
			case "":
				fence = m[1]
			case m[1]:
				fence = ""
			}
			continue
		}
		if fence != "" {
			continue
		}
		if m := headingRE.FindStringSubmatch(line); m != nil {
			// GitHub suffixes a repeated anchor with -1, -2, ...
			a := githubAnchor(m[2])
			if n := seen[a]; n > 0 {
				seen[a]++
				a = fmt.Sprintf("%s-%d", a, n)
			} else {
				seen[a] = 1
			}
			md.anchors[a] = true
			if m[1] == "##" {
				md.sections = append(md.sections, m[2])
			}
			continue
		}
		for _, m := range inPageLinkRE.FindAllStringSubmatch(codeSpanRE.ReplaceAllString(line, ""), -1) {
			md.links = append(md.links, m[1])
		}
	}
	return md
}

// githubAnchor is the anchor GitHub gives a plain-text heading: lower case,
// punctuation dropped (hyphens and underscores kept), spaces as hyphens.
func githubAnchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// checkRunbooks compares rule files (file name → text) with the runbooks'
// text. It returns the alerts found and one line per problem: an alert
// without a section or a runbook_url pointing at it, a "## " section that
// names no alert, an in-page link to no heading.
func checkRunbooks(rules map[string]string, runbooks string) (alerts, problems []string) {
	md := parseMarkdown(runbooks)
	hasSection := map[string]int{}
	for _, s := range md.sections {
		hasSection[s]++
	}
	known := map[string]bool{}
	for _, file := range slices.Sorted(maps.Keys(rules)) {
		var rf ruleFile
		if err := yaml.Unmarshal([]byte(rules[file]), &rf); err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", file, err))
			continue
		}
		for _, g := range rf.Groups {
			for _, r := range g.Rules {
				if r.Alert == "" {
					continue // a recording rule: nobody is sent to a runbook
				}
				if !known[r.Alert] {
					alerts = append(alerts, r.Alert)
				}
				known[r.Alert] = true
				problems = append(problems, checkAlert(file, r.Alert, r.Annotations, hasSection, md.anchors)...)
			}
		}
	}
	for _, s := range md.sections {
		if !known[s] {
			problems = append(problems, fmt.Sprintf("runbooks: section %q names no alert (stale, or misspelt)", "## "+s))
		}
	}
	for _, s := range slices.Sorted(maps.Keys(hasSection)) {
		if n := hasSection[s]; n > 1 && known[s] {
			problems = append(problems, fmt.Sprintf("runbooks: section %q appears %d times; the link reaches only the first", "## "+s, n))
		}
	}
	for _, l := range slices.Compact(slices.Sorted(slices.Values(md.links))) {
		if !md.anchors[l] {
			problems = append(problems, fmt.Sprintf("runbooks: link to #%s leads to no heading", l))
		}
	}
	return alerts, problems
}

func checkAlert(file, alert string, annotations map[string]string, hasSection map[string]int, anchors map[string]bool) []string {
	var problems []string
	own := githubAnchor(alert)
	if hasSection[alert] == 0 {
		problems = append(problems, fmt.Sprintf("%s: alert %s has no section %q in the runbooks", file, alert, "## "+alert))
	}
	url, ok := annotations["runbook_url"]
	if !ok {
		return append(problems, fmt.Sprintf("%s: alert %s has no runbook_url annotation", file, alert))
	}
	base, anchor, found := strings.Cut(url, "#")
	switch {
	case !found || base != runbookBase:
		problems = append(problems, fmt.Sprintf("%s: alert %s: runbook_url %q is not %s#<anchor>", file, alert, url, runbookBase))
	case anchor != own:
		// Another alert's section, or a name GitHub would not make (anchors
		// are lower case): the link would open the wrong place or the top.
		problems = append(problems, fmt.Sprintf("%s: alert %s: runbook_url points at #%s, not at its own section #%s", file, alert, anchor, own))
	case !anchors[anchor]:
		problems = append(problems, fmt.Sprintf("%s: alert %s: runbook_url points at #%s, which no heading of the runbooks has", file, alert, anchor))
	}
	return problems
}

// The shipped rules and runbooks: every alert has its section and links to
// it, and every section belongs to an alert.
func TestRunbooks(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(repo, "alerts", "*.yml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no rule files under alerts/ (%v)", err)
	}
	rules := map[string]string{}
	for _, f := range files {
		name, err := filepath.Rel(repo, f)
		if err != nil {
			t.Fatal(err)
		}
		rules[filepath.ToSlash(name)] = readFile(t, f)
	}
	alerts, problems := checkRunbooks(rules, readFile(t, filepath.Join(repo, "docs", "runbooks.md")))
	if len(alerts) == 0 {
		t.Fatal("no alerts found in the rule files: the check would prove nothing")
	}
	for _, p := range problems {
		t.Error(p)
	}
}

// The check itself, on small texts: it must catch each kind of mistake,
// and pass what is right.
func TestCheckRunbooks(t *testing.T) {
	const (
		rejected = "TwilioTrustHubProfileRejected"
		expired  = "TwilioTrustHubProfileExpired"
	)
	// rule renders a rule file with one alert per runbook_url given ("-" for
	// none).
	rule := func(pairs ...string) string {
		var b strings.Builder
		b.WriteString("groups:\n  - name: g\n    rules:\n      - record: account:twilio_trusthub_up:max\n        expr: max by (account) (twilio_trusthub_up)\n")
		for i := 0; i+1 < len(pairs); i += 2 {
			fmt.Fprintf(&b, "      - alert: %s\n        expr: vector(1)\n        labels:\n          severity: warning\n        annotations:\n          summary: s\n", pairs[i])
			if pairs[i+1] != "-" {
				fmt.Fprintf(&b, "          runbook_url: %s\n", pairs[i+1])
			}
		}
		return b.String()
	}
	url := func(anchor string) string { return runbookBase + "#" + anchor }
	good := "# Runbooks\n\nIntro, see [Expired](#twiliotrusthubprofileexpired).\n\n" +
		"## TwilioTrustHubProfileRejected\n\n### Confirm\n\n```promql\n# a comment, not a heading\nup\n```\n\n" +
		"## TwilioTrustHubProfileExpired\n\n### Confirm\n\nAs for [Rejected](#confirm); also [this](#confirm-1).\n"

	tests := []struct {
		name     string
		rules    string
		runbooks string
		want     []string
	}{
		{
			name:     "good",
			rules:    rule(rejected, url("twiliotrusthubprofilerejected"), expired, url("twiliotrusthubprofileexpired")),
			runbooks: good,
		},
		{
			name:     "no runbook_url",
			rules:    rule(rejected, "-", expired, url("twiliotrusthubprofileexpired")),
			runbooks: good,
			want:     []string{"r.yml: alert TwilioTrustHubProfileRejected has no runbook_url annotation"},
		},
		{
			name:     "another base",
			rules:    rule(rejected, "https://example.com/runbooks.md#twiliotrusthubprofilerejected", expired, url("twiliotrusthubprofileexpired")),
			runbooks: good,
			want:     []string{`r.yml: alert TwilioTrustHubProfileRejected: runbook_url "https://example.com/runbooks.md#twiliotrusthubprofilerejected" is not ` + runbookBase + "#<anchor>"},
		},
		{
			name:     "no anchor",
			rules:    rule(rejected, runbookBase, expired, url("twiliotrusthubprofileexpired")),
			runbooks: good,
			want:     []string{`r.yml: alert TwilioTrustHubProfileRejected: runbook_url "` + runbookBase + `" is not ` + runbookBase + "#<anchor>"},
		},
		{
			name:     "another alert's section",
			rules:    rule(rejected, url("twiliotrusthubprofileexpired"), expired, url("twiliotrusthubprofileexpired")),
			runbooks: good,
			want:     []string{"r.yml: alert TwilioTrustHubProfileRejected: runbook_url points at #twiliotrusthubprofileexpired, not at its own section #twiliotrusthubprofilerejected"},
		},
		{
			name:     "anchor not lower case",
			rules:    rule(rejected, url(rejected), expired, url("twiliotrusthubprofileexpired")),
			runbooks: good,
			want:     []string{"r.yml: alert TwilioTrustHubProfileRejected: runbook_url points at #TwilioTrustHubProfileRejected, not at its own section #twiliotrusthubprofilerejected"},
		},
		{
			name:     "no section",
			rules:    rule(rejected, url("twiliotrusthubprofilerejected"), expired, url("twiliotrusthubprofileexpired")),
			runbooks: strings.Replace(good, "## TwilioTrustHubProfileExpired", "## Other", 1),
			want: []string{
				`r.yml: alert TwilioTrustHubProfileExpired has no section "## TwilioTrustHubProfileExpired" in the runbooks`,
				"r.yml: alert TwilioTrustHubProfileExpired: runbook_url points at #twiliotrusthubprofileexpired, which no heading of the runbooks has",
				`runbooks: section "## Other" names no alert (stale, or misspelt)`,
				"runbooks: link to #twiliotrusthubprofileexpired leads to no heading",
			},
		},
		{
			name:     "section one level too deep",
			rules:    rule(rejected, url("twiliotrusthubprofilerejected"), expired, url("twiliotrusthubprofileexpired")),
			runbooks: strings.Replace(good, "## TwilioTrustHubProfileExpired", "### TwilioTrustHubProfileExpired", 1),
			want:     []string{`r.yml: alert TwilioTrustHubProfileExpired has no section "## TwilioTrustHubProfileExpired" in the runbooks`},
		},
		{
			name:     "section only inside a code block",
			rules:    rule(rejected, url("twiliotrusthubprofilerejected")),
			runbooks: "# Runbooks\n\n```\n## TwilioTrustHubProfileRejected\n```\n",
			want: []string{
				`r.yml: alert TwilioTrustHubProfileRejected has no section "## TwilioTrustHubProfileRejected" in the runbooks`,
				"r.yml: alert TwilioTrustHubProfileRejected: runbook_url points at #twiliotrusthubprofilerejected, which no heading of the runbooks has",
			},
		},
		{
			name:     "stale section",
			rules:    rule(rejected, url("twiliotrusthubprofilerejected")),
			runbooks: good,
			want:     []string{`runbooks: section "## TwilioTrustHubProfileExpired" names no alert (stale, or misspelt)`},
		},
		{
			name:     "section twice",
			rules:    rule(rejected, url("twiliotrusthubprofilerejected"), expired, url("twiliotrusthubprofileexpired")),
			runbooks: good + "\n## TwilioTrustHubProfileExpired\n",
			want:     []string{`runbooks: section "## TwilioTrustHubProfileExpired" appears 2 times; the link reaches only the first`},
		},
		{
			name:     "broken in-page link",
			rules:    rule(rejected, url("twiliotrusthubprofilerejected"), expired, url("twiliotrusthubprofileexpired")),
			runbooks: good + "\nSee [fix](#fix) and `[not a link](#nowhere)`.\n",
			want:     []string{"runbooks: link to #fix leads to no heading"},
		},
		{
			name:     "rule file not YAML",
			rules:    "groups: [",
			runbooks: "# Runbooks\n",
			want:     []string{"r.yml: yaml: line 1: did not find expected node content"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, got := checkRunbooks(map[string]string{"r.yml": tc.rules}, tc.runbooks)
			if !slices.Equal(got, tc.want) {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestGithubAnchor(t *testing.T) {
	for heading, want := range map[string]string{
		"TwilioTrustHubProfileRejected": "twiliotrusthubprofilerejected",
		"What stops working":            "what-stops-working",
		"Causes, by `reason`":           "causes-by-reason",
		"When to silence (or not)":      "when-to-silence-or-not",
		"max_stale and cache-ttl":       "max_stale-and-cache-ttl",
		"Ünïcode 2":                     "ünïcode-2",
	} {
		if got := githubAnchor(heading); got != want {
			t.Errorf("githubAnchor(%q) = %q, want %q", heading, got, want)
		}
	}
}
