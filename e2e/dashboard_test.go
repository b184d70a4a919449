package e2e

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
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
// an $account variable, unique panel ids, a query in every graph.
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
			if vars["datasource"] != "datasource" || vars["account"] != "query" {
				t.Errorf("variables = %v, want datasource (datasource) and account (query)", vars)
			}
			ids := map[int]string{}
			queries := 0
			for _, p := range allPanels(d.Panels) {
				if prev, dup := ids[p.ID]; dup {
					t.Errorf("panels %q and %q share id %d", prev, p.Title, p.ID)
				}
				ids[p.ID] = p.Title
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
					if !strings.Contains(tg.Expr, `account=~"$account"`) {
						t.Errorf("panel %q, query %s ignores the $account variable: %s", p.Title, tg.RefID, tg.Expr)
					}
				}
			}
			if queries < 10 {
				t.Errorf("%d queries; the dashboard lost panels", queries)
			}
		})
	}
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
