package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// The committed rules and dashboard are what the mixin generates now:
// run scripts/generate-mixin.sh after changing the mixin.
func TestGeneratedFilesAreFresh(t *testing.T) {
	files, err := generate(".", "{}")
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range files {
		got, err := os.ReadFile(filepath.Join("..", path))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from what the mixin generates: run `bash scripts/generate-mixin.sh`", path)
		}
	}
}

// A setting of _config given on the command line reaches the rules: the
// end-to-end tests shorten durations this way.
func TestConfigOverride(t *testing.T) {
	files, err := generate(".", `{objectFor: "7s", keepFiringFor: "9s", alerts+: {TwilioTrustHubProfileRejected+: {unused: null}}}`)
	if err != nil {
		t.Fatal(err)
	}
	rules := files[rulesPath]
	for _, want := range []string{"for: 7s", "keep_firing_for: 9s"} {
		if !bytes.Contains(rules, []byte(want)) {
			t.Errorf("the rules do not contain %q", want)
		}
	}
	if n := bytes.Count(rules, []byte("alert: TwilioTrustHubProfileRejected\n")); n != 1 {
		t.Errorf("TwilioTrustHubProfileRejected has %d rules with its unused variant dropped, want 1", n)
	}
}
