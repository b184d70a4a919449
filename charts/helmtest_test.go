package charts

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/internal/proctest"
)

// checkTestPod checks the helm test hook against the Deployment: the same
// image, configuration flag, volumes, mounts and security settings, so that
// what it checks is what the exporter will read; and no selector of the
// release picks it, so that it is never a Service endpoint nor counted by
// the PodDisruptionBudget.
func checkTestPod(t *testing.T, r *rendering, d *appsv1.Deployment) {
	t.Helper()
	var pods []*corev1.Pod
	for _, o := range r.objs {
		if p, ok := o.typed.(*corev1.Pod); ok {
			if !o.hook {
				t.Errorf("Pod %s is not a hook", o.name)
			}
			pods = append(pods, p)
		}
	}
	enabled := true
	if tv, ok := r.values["test"].(map[string]any); ok {
		if e, ok := tv["enabled"].(bool); ok {
			enabled = e
		}
	}
	if !enabled {
		if len(pods) != 0 {
			t.Errorf("test.enabled is false, yet %d test pods are rendered", len(pods))
		}
		return
	}
	if len(pods) != 1 {
		t.Fatalf("%d test pods, want 1", len(pods))
	}
	p := pods[0]
	if p.Annotations["helm.sh/hook"] != "test" || p.Spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("test pod: annotations %v, restartPolicy %q; want a test hook that runs once", p.Annotations, p.Spec.RestartPolicy)
	}
	spec, dspec := p.Spec, d.Spec.Template.Spec
	if len(spec.Containers) != 1 {
		t.Fatalf("test pod has %d containers, want 1", len(spec.Containers))
	}
	c, dc := spec.Containers[0], dspec.Containers[0]
	if want := []string{"--config.check", dc.Args[0]}; !reflect.DeepEqual(c.Args, want) || len(c.Command) != 0 {
		t.Errorf("test pod command %q args %q, want the image's entrypoint with %q", c.Command, c.Args, want)
	}
	for _, f := range []struct {
		name      string
		got, want any
	}{
		{"image", c.Image, dc.Image},
		{"volumes", spec.Volumes, dspec.Volumes},
		{"volume mounts", c.VolumeMounts, dc.VolumeMounts},
		{"container securityContext", c.SecurityContext, dc.SecurityContext},
		{"pod securityContext", spec.SecurityContext, dspec.SecurityContext},
		{"serviceAccountName", spec.ServiceAccountName, dspec.ServiceAccountName},
		{"automountServiceAccountToken", spec.AutomountServiceAccountToken, dspec.AutomountServiceAccountToken},
		{"imagePullSecrets", spec.ImagePullSecrets, dspec.ImagePullSecrets},
	} {
		if !reflect.DeepEqual(f.got, f.want) {
			t.Errorf("test pod %s %+v differ from the Deployment's %+v", f.name, f.got, f.want)
		}
	}
	selectors := map[string]map[string]string{"Deployment": d.Spec.Selector.MatchLabels}
	for _, o := range r.objs {
		switch x := o.typed.(type) {
		case *corev1.Service:
			selectors["Service"] = x.Spec.Selector
		case *policyv1.PodDisruptionBudget:
			selectors["PodDisruptionBudget"] = x.Spec.Selector.MatchLabels
		case *networkingv1.NetworkPolicy:
			selectors["NetworkPolicy"] = x.Spec.PodSelector.MatchLabels
		}
	}
	for kind, sel := range selectors {
		if selects(sel, p.Labels) {
			t.Errorf("the %s's selector %v picks the test pod %v", kind, sel, p.Labels)
		}
	}
}

// runTestPod runs the helm test pod's command as its container would, but
// on this machine: each volume becomes a directory of a temporary root,
// filled from the Secret the chart renders of that name (extraManifests
// included), or, for a Secret made outside the chart, from external; each
// mount path is then replaced by its directory, in the arguments and in the
// files (the configuration names token files by their mounted paths). The
// image's entrypoint is the exporter, so the command is the exporter built
// from this repository with the container's arguments, and its output names
// the mounted paths again, as the pod's log would.
func runTestPod(t *testing.T, r *rendering, external map[string]map[string]string) (stdout, stderr string, code int) {
	t.Helper()
	p := one[*corev1.Pod](t, r)
	c := p.Spec.Containers[0]
	root := t.TempDir()

	dirs := map[string]string{}             // volume name → local directory
	files := map[string]map[string]string{} // volume name → its files
	for _, v := range p.Spec.Volumes {
		if v.Secret == nil {
			t.Fatalf("volume %s: only Secret volumes can be run here, not %+v", v.Name, v.VolumeSource)
		}
		data := secretData(r, v.Secret.SecretName)
		if data == nil {
			data = external[v.Secret.SecretName]
		}
		if data == nil {
			t.Fatalf("volume %s: Secret %s is neither rendered by the chart nor given as made outside it", v.Name, v.Secret.SecretName)
		}
		files[v.Name] = data
		if len(v.Secret.Items) > 0 {
			files[v.Name] = map[string]string{}
			for _, it := range v.Secret.Items {
				files[v.Name][it.Path] = data[it.Key]
			}
		}
		dirs[v.Name] = filepath.Join(root, "volumes", v.Name)
	}

	// Longest mount path first, so that /a-auth is not read as /a plus "-auth".
	mounts := append([]corev1.VolumeMount(nil), c.VolumeMounts...)
	sort.Slice(mounts, func(i, j int) bool { return len(mounts[i].MountPath) > len(mounts[j].MountPath) })
	var pairs, back []string
	for _, m := range mounts {
		if m.SubPath != "" {
			t.Fatalf("mount %s uses a subPath, which a rotated Secret never reaches", m.Name)
		}
		dir, ok := dirs[m.Name]
		if !ok {
			t.Fatalf("mount %s names no volume of the pod", m.Name)
		}
		pairs = append(pairs, m.MountPath, dir)
		back = append(back, dir, m.MountPath)
	}
	local, inPod := strings.NewReplacer(pairs...), strings.NewReplacer(back...)
	for name, fs := range files {
		if err := os.MkdirAll(dirs[name], 0o700); err != nil {
			t.Fatal(err)
		}
		for file, content := range fs {
			path := filepath.Join(dirs[name], file)
			if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(local.Replace(content)), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	args := make([]string, len(c.Args))
	for i, a := range c.Args {
		args[i] = local.Replace(a)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, proctest.Binary(t), args...)
	cmd.Env = proctest.Env()
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		code = exit.ExitCode()
	default:
		t.Fatalf("running the test pod's command: %v", err)
	}
	// The output as the pod's log would show it: with the mounted paths.
	return inPod.Replace(out.String()), inPod.Replace(errOut.String()), code
}

// secretData returns the data of the Secret of that name the chart renders
// (extraManifests included), or nil.
func secretData(r *rendering, name string) map[string]string {
	for _, o := range r.objs {
		s, ok := o.typed.(*corev1.Secret)
		if !ok || s.Name != name {
			continue
		}
		data := map[string]string{}
		for k, v := range s.Data {
			data[k] = string(v)
		}
		for k, v := range s.StringData {
			data[k] = v
		}
		return data
	}
	return nil
}

// TestHelmTestPod runs the helm test pod's command against the
// configuration each set of values renders, with the Secrets made outside
// the chart that a user would have: it must pass where the exporter would
// start, and fail with the exporter's reason where it would not.
func TestHelmTestPod(t *testing.T) {
	ch := loadChart(t)
	const account = "config: {accounts: [{name: main, account_sid: AC00000000000000000000000000000001}]}\n"
	tokenSecret := map[string]map[string]string{"twilio-auth": {"auth_token": plantedToken, "api_secret": plantedToken}}
	for _, tc := range []struct {
		name     string
		values   []string
		external map[string]map[string]string
		code     int
		want     string
	}{
		{
			name: "default values: no account",
			code: 1, want: "configuration refused",
		},
		{
			name:   "inline token",
			values: []string{"config: {accounts: [{name: main, account_sid: AC00000000000000000000000000000001, auth_token: " + plantedToken + "}]}\n"},
			want:   "configuration valid: 1 account(s)",
		},
		{
			name:   "an unknown key in config",
			values: []string{"config: {cache_tl: 5m, accounts: [{name: main, account_sid: AC00000000000000000000000000000001, auth_token: x}]}\n"},
			code:   1, want: "cache_tl",
		},
		{
			name: "auth.existingSecret: a token and an API key secret",
			values: []string{
				"config: {accounts: [{name: main, account_sid: AC00000000000000000000000000000001}, {name: keyed, account_sid: AC00000000000000000000000000000002, api_key: SK00000000000000000000000000000002}]}\n",
				"auth: {existingSecret: twilio-auth, apiSecretKey: api_secret}\n",
			},
			external: tokenSecret,
			want:     "configuration valid: 2 account(s)",
		},
		{
			name:     "auth.existingSecret without the key named",
			values:   []string{account, "auth: {existingSecret: twilio-auth, tokenKey: token}\n"},
			external: tokenSecret,
			code:     1, want: `auth_token_file: "/etc/twilio-trusthub-exporter-auth/token" cannot be read`,
		},
		{
			name:     "auth.existingSecret with an empty token",
			values:   []string{account, "auth: {existingSecret: twilio-auth}\n"},
			external: map[string]map[string]string{"twilio-auth": {"auth_token": "\n"}},
			code:     1, want: "is empty",
		},
		{
			name:   "existingSecret: the whole configuration, its token beside it",
			values: []string{"existingSecret: {name: exporter-config}\n"},
			external: map[string]map[string]string{"exporter-config": {
				"config.yml": "accounts: [{name: main, account_sid: AC00000000000000000000000000000001, auth_token_file: auth_token}]\n",
				"auth_token": plantedToken,
			}},
			want: "configuration valid: 1 account(s)",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := render(t, ch, values(t, tc.values...))
			checkCommon(t, r)
			stdout, stderr, code := runTestPod(t, r, tc.external)
			if code != tc.code || !strings.Contains(stdout+stderr, tc.want) {
				t.Errorf("exit %d, output %q %q; want exit %d and %q", code, stdout, stderr, tc.code, tc.want)
			}
			if strings.Contains(stdout+stderr, plantedToken) {
				t.Errorf("the test pod's output holds the token")
			}
		})
	}
}
