package e2e

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	sdkdashboard "github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

type datasourceRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type panel struct {
	ID         int            `json:"id"`
	Type       string         `json:"type"`
	Title      string         `json:"title"`
	Datasource *datasourceRef `json:"datasource"`
	GridPos    struct{ X, Y, W, H int }
	Targets    []struct {
		Expr       string         `json:"expr"`
		RefID      string         `json:"refId"`
		Datasource *datasourceRef `json:"datasource"`
	} `json:"targets"`
	Panels []panel `json:"panels"`
}

type dashboard struct {
	Title      string `json:"title"`
	UID        string `json:"uid"`
	Templating struct {
		List []struct {
			Name       string         `json:"name"`
			Type       string         `json:"type"`
			Query      any            `json:"query"`
			Datasource *datasourceRef `json:"datasource"`
		} `json:"list"`
	} `json:"templating"`
	Panels []panel `json:"panels"`
}

func loadDashboards(t *testing.T) map[string]dashboard {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(repo, "dashboards", "*.json"))
	if len(files) == 0 {
		t.Fatal("no dashboards under dashboards/")
	}
	out := map[string]dashboard{}
	for _, f := range files {
		var d dashboard
		if err := json.Unmarshal([]byte(readFile(t, f)), &d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[filepath.Base(f)] = d
	}
	return out
}

// allPanels flattens rows.
func allPanels(ps []panel) []panel {
	var out []panel
	for _, p := range ps {
		out = append(out, p)
		out = append(out, allPanels(p.Panels)...)
	}
	return out
}

// Importable as is: a $datasource variable, no datasource UID written in,
// $job and $account variables, unique panel ids and titles, a query in
// every panel, every query bound to the variables.
func TestDashboardStructure(t *testing.T) {
	for file, d := range loadDashboards(t) {
		t.Run(file, func(t *testing.T) {
			if d.Title == "" || d.UID == "" {
				t.Error("no title or uid")
			}
			vars := map[string]string{}
			for _, v := range d.Templating.List {
				vars[v.Name] = v.Type
				if v.Datasource != nil && v.Datasource.UID != "${datasource}" {
					t.Errorf("variable %s uses data source %q, want ${datasource}", v.Name, v.Datasource.UID)
				}
			}
			if vars["datasource"] != "datasource" || vars["account"] != "query" || vars["job"] != "query" {
				t.Errorf("variables = %v, want datasource (datasource), job and account (query)", vars)
			}
			ids := map[int]string{}
			titles := map[string]bool{}
			queries := 0
			for _, p := range allPanels(d.Panels) {
				if prev, dup := ids[p.ID]; dup {
					t.Errorf("panels %q and %q share id %d", prev, p.Title, p.ID)
				}
				ids[p.ID] = p.Title
				if titles[p.Title] {
					t.Errorf("two panels are titled %q", p.Title)
				}
				titles[p.Title] = true
				if p.Type == "row" {
					continue
				}
				if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
					t.Errorf("panel %q: data source %+v, want uid ${datasource}", p.Title, p.Datasource)
				}
				if len(p.Targets) == 0 {
					t.Errorf("panel %q has no query", p.Title)
				}
				for _, tg := range p.Targets {
					queries++
					if strings.TrimSpace(tg.Expr) == "" {
						t.Errorf("panel %q, query %s: empty", p.Title, tg.RefID)
					}
					if tg.Datasource != nil && tg.Datasource.UID != "${datasource}" {
						t.Errorf("panel %q, query %s: data source %q", p.Title, tg.RefID, tg.Datasource.UID)
					}
					// The exporter's series are selected by both
					// variables; Prometheus' own up and ALERTS, and the
					// process's own families (no account label), by
					// what they have.
					switch {
					case strings.Contains(tg.Expr, "twilio_trusthub_exporter_"):
						if !strings.Contains(tg.Expr, `{job=~"$job"}`) || strings.Contains(tg.Expr, "$account") {
							t.Errorf("panel %q, query %s: a process-wide family is selected by the job alone: %s", p.Title, tg.RefID, tg.Expr)
						}
					case !strings.Contains(tg.Expr, `job=~"$job",account=~"$account"`) && !strings.Contains(tg.Expr, `up{job=~"$job"}`) &&
						!strings.Contains(tg.Expr, `account=~"$account"}`):
						t.Errorf("panel %q, query %s ignores the job and account variables: %s", p.Title, tg.RefID, tg.Expr)
					}
				}
			}
			if queries < 20 {
				t.Errorf("%d queries; the dashboard lost panels", queries)
			}
		})
	}
}

// The dashboard decodes strictly into the Grafana Foundation SDK's
// dashboard types (Grafana's own schema, with every panel plugin's options
// and Prometheus' query registered): an unknown or misspelt field fails,
// as Grafana's server cannot be run here to load it.
func TestDashboardDecodesStrictly(t *testing.T) {
	plugins.RegisterDefaultPlugins()
	for _, f := range dashboardFiles(t) {
		raw := []byte(readFile(t, f))
		// The classic JSON model, which Grafana imports and its sidecar
		// provisions: the v2 schema is another API.
		var d sdkdashboard.Dashboard //nolint:staticcheck // SA1019: see above
		if err := strict(d.UnmarshalJSONStrict(raw)); err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if len(d.Panels) == 0 {
			t.Errorf("%s: no panels decoded", f)
		}
		// The control: the same dashboard with a misspelt panel field, a
		// misspelt table option or a misspelt Prometheus query field is
		// refused.
		for _, bad := range []struct{ from, to string }{{`"gridPos"`, `"gridPoss"`}, {`"showHeader"`, `"showHeadr"`}, {`"legendFormat"`, `"legendFormt"`}} {
			var d2 sdkdashboard.Dashboard //nolint:staticcheck // SA1019: as above
			err := strict(d2.UnmarshalJSONStrict([]byte(strings.Replace(string(raw), bad.from, bad.to, 1))))
			if err == nil || !strings.Contains(err.Error(), strings.Trim(bad.to, `"`)) {
				t.Errorf("%s with %s misspelt as %s: error %v, want one naming it", f, bad.from, bad.to, err)
			}
		}
	}
}

// strict is the error of an UnmarshalJSONStrict: the SDK returns its list
// of errors even when the list is empty, which is no error.
func strict(err error) error {
	var errs cog.BuildErrors
	if errors.As(err, &errs) && len(errs) == 0 {
		return nil
	}
	return err
}

func dashboardFiles(t *testing.T) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(repo, "dashboards", "*.json"))
	if len(files) == 0 {
		t.Fatal("no dashboards under dashboards/")
	}
	return files
}

// dashboardQueries returns every panel query with the template variables
// substituted as Grafana would with "All" selected.
func dashboardQueries(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for file, d := range loadDashboards(t) {
		for _, p := range allPanels(d.Panels) {
			for _, tg := range p.Targets {
				expr := strings.NewReplacer(
					"$account", ".*",
					"$job", ".+",
					"$__rate_interval", "1m",
					"$__interval", "15s",
					"$__range", "1h",
				).Replace(tg.Expr)
				out[file+": "+p.Title+" ("+tg.RefID+")"] = expr
			}
		}
	}
	return out
}
