package main

// These tests hold the documentation to what it promises: a README short
// enough to be read, links that lead somewhere, and descriptions of the
// exporter that name every kind of object it exports.

import (
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

	yamlv3 "go.yaml.in/yaml/v3"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
)

// maxReadmeBytes bounds README.md: what a user needs (what the exporter
// does, how to run it, configuration, metrics, alerts, deploying, failure
// modes). Design notes, figures and development belong in docs/.
const maxReadmeBytes = 40_000

func TestReadmeSize(t *testing.T) {
	info, err := os.Stat("README.md")
	if err != nil {
		t.Fatal(err)
	}
	if info.Size() > maxReadmeBytes {
		t.Errorf("README.md is %d bytes, more than %d: move design notes, figures or development to docs/", info.Size(), maxReadmeBytes)
	}
}

// repoURL is where the repository's own files are published; a link to a
// file there is checked as a relative link would be.
var repoURL = regexp.MustCompile(`^https://github\.com/twilio-trusthub-exporter/twilio_trusthub_exporter/(?:blob|tree)/main/([^#?]*)(#.*)?$`)

// TestMarkdownLinks checks every link in the repository's Markdown files
// that points into the repository: the file or folder exists and, for a
// #fragment into a Markdown file, a heading of that file has that anchor.
func TestMarkdownLinks(t *testing.T) {
	var files []string
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		// Hidden folders (.git, .build) and build output hold no documentation.
		if d.IsDir() && p != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "dist" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(p, ".md") {
			files = append(files, filepath.ToSlash(p))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"README.md", "docs/design.md", "docs/development.md", "docs/performance.md"} {
		if !slices.Contains(files, want) {
			t.Errorf("%s is missing", want)
		}
	}
	root, ok := os.DirFS(".").(docFS)
	if !ok {
		t.Fatal("os.DirFS reads no files") // it has since Go 1.21
	}
	for _, problem := range checkLinks(root, files) {
		t.Error(problem)
	}
}

// TestCheckLinksFindsBrokenLinks holds the checker to finding what it is
// for, on a small tree of its own.
func TestCheckLinksFindsBrokenLinks(t *testing.T) {
	fsys := fstestMap{
		"README.md": "# Title\n\n## Failure modes\n\n## `per_object_status`: full or sparse\n\n" +
			"[ok](#failure-modes) [ok](#per_object_status-full-or-sparse) [ok](docs/a.md#a-b) [ok](docs/) " +
			"[ok](https://example.com/missing) [ok](https://github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/blob/main/docs/a.md#a-b)\n" +
			"[bad anchor](#failure) [bad file](docs/missing.md) [bad anchor there](docs/a.md#nowhere)\n" +
			"[bad repo link](https://github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/blob/main/gone.md)\n" +
			"```\n[in code](nowhere.md)\n# not a heading\n```\n`[inline code](nowhere.md)`\n",
		"docs/a.md": "# A b\n\n[up](../README.md#failure-modes) [up, bad](../README.md#not-a-heading) [self](#a-b)\n",
	}
	got := checkLinks(fsys, []string{"README.md", "docs/a.md"})
	want := []string{
		`README.md: link "#failure": no heading with that anchor in README.md`,
		`README.md: link "docs/missing.md": docs/missing.md does not exist`,
		`README.md: link "docs/a.md#nowhere": no heading with that anchor in docs/a.md`,
		`README.md: link "https://github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/blob/main/gone.md": gone.md does not exist`,
		`docs/a.md: link "../README.md#not-a-heading": no heading with that anchor in README.md`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems found:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// fstestMap is a file system of Markdown texts by path; a folder exists
// when a file is under it.
type fstestMap map[string]string

func (m fstestMap) Open(name string) (fs.File, error) { return nil, fs.ErrNotExist }

func (m fstestMap) ReadFile(name string) ([]byte, error) {
	if s, ok := m[name]; ok {
		return []byte(s), nil
	}
	return nil, fs.ErrNotExist
}

func (m fstestMap) Stat(name string) (fs.FileInfo, error) {
	if _, ok := m[name]; ok {
		return nil, nil
	}
	for p := range m {
		if strings.HasPrefix(p, name+"/") {
			return nil, nil
		}
	}
	return nil, fs.ErrNotExist
}

// docFS is what checkLinks reads: files' texts, and whether a path exists.
type docFS interface {
	fs.ReadFileFS
	fs.StatFS
}

var (
	// fence opens or closes a fenced code block.
	fence = regexp.MustCompile("^\\s*(```|~~~)")
	// codeSpan is inline code, whose brackets are no link.
	codeSpan = regexp.MustCompile("`+[^`]*`+")
	// inlineLink is [text](target) or ![alt](target), with an optional title.
	inlineLink = regexp.MustCompile(`\]\(\s*<?([^()\s>]*)>?(?:\s+"[^"]*")?\s*\)`)
	// refDef is a reference definition: [label]: target.
	refDef = regexp.MustCompile(`(?m)^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$`)
	// atxHeading is a "#" heading.
	atxHeading = regexp.MustCompile(`^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$`)
	// htmlAnchor is an explicit anchor: <a id="x"> or <a name="x">.
	htmlAnchor = regexp.MustCompile(`<a\s+(?:id|name)="([^"]+)"`)
	// scheme starts an absolute URL (https:, mailto:).
	scheme = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:`)
	// mdLink is a Markdown link in a heading, which renders as its text.
	mdLink = regexp.MustCompile(`!?\[([^\]]*)\]\([^)]*\)`)
)

// checkLinks returns a line for every link of files that points into the
// repository and leads nowhere.
func checkLinks(fsys docFS, files []string) []string {
	anchors := map[string]map[string]bool{}
	anchorsOf := func(file string) (map[string]bool, error) {
		if a, ok := anchors[file]; ok {
			return a, nil
		}
		b, err := fsys.ReadFile(file)
		if err != nil {
			return nil, err
		}
		a := headingAnchors(string(b))
		anchors[file] = a
		return a, nil
	}
	var problems []string
	for _, file := range files {
		b, err := fsys.ReadFile(file)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", file, err))
			continue
		}
		for _, link := range links(string(b)) {
			target, frag, local := resolve(file, link)
			if !local {
				continue
			}
			if target != file {
				if _, err := fsys.Stat(target); err != nil {
					problems = append(problems, fmt.Sprintf("%s: link %q: %s does not exist", file, link, target))
					continue
				}
			}
			if frag == "" || !strings.HasSuffix(target, ".md") {
				continue
			}
			a, err := anchorsOf(target)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: link %q: %v", file, link, err))
				continue
			}
			if !a[frag] {
				problems = append(problems, fmt.Sprintf("%s: link %q: no heading with that anchor in %s", file, link, target))
			}
		}
	}
	return problems
}

// resolve turns link, found in file, into the repository path it points
// at and its fragment; local is false for a link out of the repository.
func resolve(file, link string) (target, frag string, local bool) {
	if m := repoURL.FindStringSubmatch(link); m != nil {
		target, frag = strings.TrimSuffix(m[1], "/"), strings.TrimPrefix(m[2], "#")
		if target == "" {
			target = "."
		}
		return target, frag, true
	}
	if scheme.MatchString(link) || strings.HasPrefix(link, "//") {
		return "", "", false
	}
	p, frag, _ := strings.Cut(link, "#")
	if u, err := url.PathUnescape(p); err == nil {
		p = u
	}
	if p == "" {
		return file, frag, true
	}
	if strings.HasPrefix(p, "/") {
		return path.Clean(strings.TrimPrefix(p, "/")), frag, true
	}
	return path.Join(path.Dir(file), p), frag, true
}

// links returns the targets of a Markdown text's links, leaving out code.
func links(text string) []string {
	var out []string
	for _, line := range proseLines(text) {
		line = codeSpan.ReplaceAllString(line, "")
		for _, m := range inlineLink.FindAllStringSubmatch(line, -1) {
			out = append(out, m[1])
		}
		for _, m := range refDef.FindAllStringSubmatch(line, -1) {
			out = append(out, m[1])
		}
	}
	return out
}

// proseLines returns the lines of a Markdown text outside fenced code.
func proseLines(text string) []string {
	var out []string
	inFence := false
	for _, line := range strings.Split(text, "\n") {
		if fence.MatchString(line) {
			inFence = !inFence
			continue
		}
		if !inFence {
			out = append(out, line)
		}
	}
	return out
}

// headingAnchors returns the anchors GitHub gives a Markdown text's
// headings (a repeated one gets -1, -2, ...), and its explicit anchors.
func headingAnchors(text string) map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	for _, line := range proseLines(text) {
		for _, m := range htmlAnchor.FindAllStringSubmatch(line, -1) {
			out[m[1]] = true
		}
		m := atxHeading.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		slug := githubSlug(m[1])
		if n := seen[slug]; n > 0 {
			out[fmt.Sprintf("%s-%d", slug, n)] = true
		} else {
			out[slug] = true
		}
		seen[slug]++
	}
	return out
}

// githubSlug is the anchor GitHub makes of a heading: its text as rendered
// (a link is its text, code keeps its content), lower case, with every
// character but letters, digits, "_", "-" and spaces dropped, and spaces
// made hyphens.
func githubSlug(heading string) string {
	heading = mdLink.ReplaceAllString(heading, "$1")
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

func TestGithubSlug(t *testing.T) {
	for _, tc := range []struct{ heading, want string }{
		{"Failure modes", "failure-modes"},
		{"`per_object_status`: full or sparse", "per_object_status-full-or-sparse"},
		{"Many accounts across replicas (multi-target)", "many-accounts-across-replicas-multi-target"},
		{"Prometheus, Alertmanager and Grafana", "prometheus-alertmanager-and-grafana"},
		{"TwilioTrustHubProfileRejected", "twiliotrusthubprofilerejected"},
		{"What the tests prove, part by part", "what-the-tests-prove-part-by-part"},
		{"See [the design](docs/design.md)", "see-the-design"},
		{"0.1.0 — 2026-11-28", "010--2026-11-28"},
	} {
		if got := githubSlug(tc.heading); got != tc.want {
			t.Errorf("githubSlug(%q) = %q, want %q", tc.heading, got, tc.want)
		}
	}
}

// TestDescriptionsNameEveryKind checks that every place that says in a
// sentence what the exporter is names every kind it exports, read from
// the kinds table: a kind added there fails this test until each of them
// names it too.
func TestDescriptionsNameEveryKind(t *testing.T) {
	help := helpText(t)
	descriptions := []struct{ place, text string }{
		{"--help", appHelp(t, help)},
		{"--demo's help", flagHelp(t, help, "demo")},
		{"main.go's package comment", packageDoc(t, "main.go")},
		{"README.md's opening", openingParagraph(t, "README.md")},
		{"the chart's README's opening", openingParagraph(t, "charts/twilio-trusthub-exporter/README.md")},
		{"Chart.yaml's description", chartDescription(t)},
		{"Dockerfile's description label", imageDescription(t, "Dockerfile")},
		{"Dockerfile.goreleaser's description label", imageDescription(t, "Dockerfile.goreleaser")},
		{"the systemd unit's Description=", unitDescription(t, "examples/systemd/twilio_trusthub_exporter.service")},
	}
	for _, d := range descriptions {
		place, text := d.place, d.text
		normal := strings.ToLower(strings.Join(strings.Fields(strings.ReplaceAll(text, "**", "")), " "))
		if normal == "" {
			t.Errorf("%s: no description found", place)
			continue
		}
		for _, k := range kinds.All {
			if !strings.Contains(normal, strings.ToLower(k.Title)) {
				t.Errorf("%s does not name %s: %q", place, k.Title, text)
			}
		}
	}
}

// helpText is what --help prints.
func helpText(t *testing.T) string {
	t.Helper()
	out, err := exec.Command(binary(t), "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("--help: %v\n%s", err, out)
	}
	return string(out)
}

// appHelp is the application's help: what --help prints between the usage
// line and the flags.
func appHelp(t *testing.T, help string) string {
	t.Helper()
	_, rest, ok := strings.Cut(help, "\n")
	text, _, ok2 := strings.Cut(rest, "Flags:")
	if !ok || !ok2 {
		t.Fatalf("--help has no usage line or no flags:\n%s", help)
	}
	return text
}

// flagHelp is one flag's help in --help's output: from its name to the
// next flag.
func flagHelp(t *testing.T, help, flag string) string {
	t.Helper()
	start := regexp.MustCompile(`(?m)^\s+--(?:\[no-\])?` + regexp.QuoteMeta(flag) + `\b`).FindStringIndex(help)
	if start == nil {
		t.Fatalf("--help lists no --%s:\n%s", flag, help)
	}
	rest := help[start[1]:]
	if next := regexp.MustCompile(`(?m)^\s+(?:-\w, )?--`).FindStringIndex(rest); next != nil {
		rest = rest[:next[0]]
	}
	return rest
}

func packageDoc(t *testing.T, file string) string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.PackageClauseOnly|parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	if f.Doc == nil {
		return ""
	}
	return f.Doc.Text()
}

// openingParagraph is the first paragraph after a Markdown file's title.
func openingParagraph(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var para []string
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case strings.HasPrefix(line, "# "):
		case strings.TrimSpace(line) == "":
			if len(para) > 0 {
				return strings.Join(para, " ")
			}
		default:
			para = append(para, line)
		}
	}
	return strings.Join(para, " ")
}

func chartDescription(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("charts/twilio-trusthub-exporter/Chart.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var chart struct {
		Description string `yaml:"description"`
	}
	if err := yamlv3.Unmarshal(b, &chart); err != nil {
		t.Fatal(err)
	}
	return chart.Description
}

func imageDescription(t *testing.T, dockerfile string) string {
	t.Helper()
	label := regexp.MustCompile(`org\.opencontainers\.image\.description="([^"]*)"`)
	for _, in := range instructions(t, dockerfile) {
		if m := label.FindStringSubmatch(in); m != nil && strings.HasPrefix(in, "LABEL ") {
			return m[1]
		}
	}
	return ""
}

func unitDescription(t *testing.T, unit string) string {
	t.Helper()
	b, err := os.ReadFile(unit)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if d, ok := strings.CutPrefix(line, "Description="); ok {
			return d
		}
	}
	return ""
}
