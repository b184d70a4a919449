package main

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	yamlv3 "go.yaml.in/yaml/v3"
)

// instructions reads a Dockerfile as its instructions: continuation lines
// joined, comments and blank lines dropped, runs of blanks made one.
func instructions(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	cur := ""
	for _, line := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur += strings.TrimSuffix(trimmed, "\\") + " "
			continue
		}
		out = append(out, strings.Join(strings.Fields(cur+trimmed), " "))
		cur = ""
	}
	return out
}

// stages splits instructions at each FROM.
func stages(ins []string) [][]string {
	var st [][]string
	for _, in := range ins {
		if strings.HasPrefix(in, "FROM ") || len(st) == 0 {
			st = append(st, nil)
		}
		st[len(st)-1] = append(st[len(st)-1], in)
	}
	return st
}

// TestDockerfiles holds the Dockerfiles to what no container engine can
// check here: the source build cross-compiles on the build machine's own
// platform for the target's, Dockerfile.goreleaser's image is the
// Dockerfile's final stage with the binary taken from goreleaser's context,
// the -ldflags stamp what .goreleaser.yaml stamps, and goreleaser's image
// definition builds that file for the platforms it compiles.
func TestDockerfiles(t *testing.T) {
	src := stages(instructions(t, "Dockerfile"))
	rel := stages(instructions(t, "Dockerfile.goreleaser"))
	if len(src) != 2 || len(rel) != 1 {
		t.Fatalf("Dockerfile has %d stages (want build and image), Dockerfile.goreleaser %d (want the image alone)", len(src), len(rel))
	}

	build := src[0]
	if !regexp.MustCompile(`^FROM --platform=\$BUILDPLATFORM golang:\S+ AS build$`).MatchString(build[0]) {
		t.Errorf("the build stage starts %q: it must run on $BUILDPLATFORM, not under emulation", build[0])
	}
	argAt := slices.Index(build, "ARG TARGETOS TARGETARCH")
	runAt := slices.IndexFunc(build, func(s string) bool { return strings.Contains(s, "go build") })
	if argAt < 0 || runAt < argAt {
		t.Errorf("the build stage does not declare ARG TARGETOS TARGETARCH before go build:\n%s", strings.Join(build, "\n"))
	} else if run := build[runAt]; !strings.Contains(run, "CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH go build") {
		t.Errorf("go build does not cross-compile for the target: %s", run)
	}

	// The two images alike, but for how the binary gets in.
	const fromBuild = "COPY --from=build /out/twilio_trusthub_exporter /bin/twilio_trusthub_exporter"
	fromContext := []string{"ARG TARGETPLATFORM", "COPY $TARGETPLATFORM/twilio_trusthub_exporter /bin/twilio_trusthub_exporter"}
	i := slices.Index(src[1], fromBuild)
	j := slices.Index(rel[0], fromContext[0])
	if i < 0 || j < 0 || j+1 >= len(rel[0]) || rel[0][j+1] != fromContext[1] {
		t.Fatalf("cannot find the binary's COPY: %q in Dockerfile, %q in Dockerfile.goreleaser", fromBuild, fromContext)
	}
	a := slices.Concat(src[1][:i], fromContext, src[1][i+1:])
	if !slices.Equal(a, rel[0]) {
		t.Errorf("the images differ:\nDockerfile\n  %s\nDockerfile.goreleaser\n  %s", strings.Join(a, "\n  "), strings.Join(rel[0], "\n  "))
	}
	// That the description label names every kind is checked with the
	// exporter's other descriptions (TestDescriptionsNameEveryKind).

	var gr struct {
		Builds []struct {
			ID      string   `yaml:"id"`
			Goos    []string `yaml:"goos"`
			Goarch  []string `yaml:"goarch"`
			Ldflags []string `yaml:"ldflags"`
		} `yaml:"builds"`
		DockersV2 []struct {
			IDs        []string          `yaml:"ids"`
			Dockerfile string            `yaml:"dockerfile"`
			Platforms  []string          `yaml:"platforms"`
			ExtraFiles []string          `yaml:"extra_files"`
			BuildArgs  map[string]string `yaml:"build_args"`
		} `yaml:"dockers_v2"`
	}
	b, err := os.ReadFile(".goreleaser.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yamlv3.Unmarshal(b, &gr); err != nil {
		t.Fatal(err)
	}
	if len(gr.Builds) != 1 || len(gr.DockersV2) != 1 {
		t.Fatalf("%d builds and %d dockers_v2 in .goreleaser.yaml, want one of each", len(gr.Builds), len(gr.DockersV2))
	}
	bld, img := gr.Builds[0], gr.DockersV2[0]

	// The same version variables stamped by both builds.
	x := regexp.MustCompile(`-X (\S+)=`)
	var stamped, goreleaser []string
	for _, m := range x.FindAllStringSubmatch(build[runAt], -1) {
		stamped = append(stamped, m[1])
	}
	for _, m := range x.FindAllStringSubmatch(strings.Join(bld.Ldflags, " "), -1) {
		goreleaser = append(goreleaser, m[1])
	}
	if len(stamped) == 0 || !slices.Equal(stamped, goreleaser) {
		t.Errorf("the Dockerfile stamps %v, .goreleaser.yaml %v", stamped, goreleaser)
	}

	if img.Dockerfile != "Dockerfile.goreleaser" || !slices.Equal(img.IDs, []string{bld.ID}) || !slices.Contains(img.ExtraFiles, "LICENSE") {
		t.Errorf("dockers_v2: dockerfile %q ids %v extra_files %v", img.Dockerfile, img.IDs, img.ExtraFiles)
	}
	for _, p := range img.Platforms {
		goos, goarch, _ := strings.Cut(p, "/")
		if !slices.Contains(bld.Goos, goos) || !slices.Contains(bld.Goarch, goarch) {
			t.Errorf("the image is built for %s, which goreleaser does not compile", p)
		}
	}
	for arg := range img.BuildArgs {
		if !slices.Contains(rel[0], "ARG "+arg) && !slices.ContainsFunc(rel[0], func(s string) bool { return strings.HasPrefix(s, "ARG "+arg+"=") }) {
			t.Errorf("build argument %s is not an ARG of Dockerfile.goreleaser's image", arg)
		}
	}
}
