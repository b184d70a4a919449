package collector

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	promconfig "github.com/prometheus/common/config"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/cache"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/exposition"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/simulator"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/snapshot"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/twilio"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/usage"
)

// reference builds the per-object series the plain client_golang way, as
// const metrics, and lets its encoder write them: what WriteProfiles must
// match line for line. Its label names are written out here, not taken
// from the family table, so that a wrong table fails the test.
type reference struct {
	account string
	snaps   []*snapshot.Snapshot
	// sparse writes only each object's current status, as
	// per_object_status: sparse asks.
	sparse bool
}

func (r reference) Describe(chan<- *prometheus.Desc) {}

// referenceUsage are the labels of each kind's usage family, after the
// account, written out.
var referenceUsage = map[string][]string{
	"customer_profiles": {"sid", "type"},
	"trust_products":    {"sid", "type"},
	"a2p_campaigns":     {"messaging_service_sid"},
}

// referenceInfo are the info series' labels of each kind, after the
// account and the sid, in the order of the kind's InfoLabels: the issue's
// table, written out.
var referenceInfo = map[string][]string{
	"customer_profiles":      {"friendly_name", "policy_sid"},
	"trust_products":         {"friendly_name", "policy_sid"},
	"brand_registrations":    {"brand_type", "identity_status", "tcr_id", "a2p_profile_bundle_sid", "customer_profile_bundle_sid"},
	"a2p_campaigns":          {"messaging_service_sid", "brand_registration_sid", "campaign_id", "usecase"},
	"tollfree_verifications": {"tollfree_phone_number", "business_name", "trust_product_sid", "customer_profile_sid"},
}

func (r reference) Collect(ch chan<- prometheus.Metric) {
	for _, snap := range r.snaps {
		k := snap.Kind
		if k.Uses != nil {
			d := prometheus.NewDesc(k.Uses.Metric, k.Uses.Help+cached, append([]string{"account"}, referenceUsage[k.Name]...), nil)
			snap.EachUsage(func(sid string, u snapshot.Usage) {
				for _, c := range u {
					values := []string{r.account, sid}
					if k.Uses.CountsBy() {
						values = append(values, c.By)
					}
					ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(c.N), values...)
				}
			})
		}
		for _, f := range objectFamilies(k, r.sparse) {
			if f.whole != nil {
				continue
			}
			name := f.Name()
			var suffix string
			for _, s := range []string{"_info", "_status", "_valid_until_timestamp_seconds", "_edit_expiration_timestamp_seconds",
				"_created_timestamp_seconds", "_updated_timestamp_seconds", "_score", "_error_info"} {
				if strings.HasSuffix(name, s) {
					suffix = s
				}
			}
			labels := map[string][]string{
				"_info":       append([]string{"account", "sid"}, referenceInfo[k.Name]...),
				"_status":     {"account", "sid", "status"},
				"_error_info": {"account", "sid", "code"},
			}[suffix]
			if labels == nil {
				labels = []string{"account", "sid"}
			}
			d := prometheus.NewDesc(name, f.Help(), labels, nil)
			gauge := func(v float64, values ...string) {
				ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, append([]string{r.account}, values...)...)
			}
			for _, p := range snap.Records {
				if p.SID == "" {
					continue
				}
				switch suffix {
				case "_info":
					gauge(1, append([]string{p.SID}, p.Labels...)...)
				case "_status":
					if r.sparse {
						gauge(1, p.SID, p.Status)
						break
					}
					for _, st := range k.Statuses {
						gauge(map[bool]float64{true: 1}[st == p.Status], p.SID, st)
					}
					if !slices.Contains(k.Statuses, p.Status) {
						gauge(1, p.SID, p.Status)
					}
				case "_valid_until_timestamp_seconds", "_edit_expiration_timestamp_seconds", "_created_timestamp_seconds",
					"_updated_timestamp_seconds", "_score":
					field := map[string]kinds.Field{
						"_valid_until_timestamp_seconds":     kinds.FieldValidUntil,
						"_edit_expiration_timestamp_seconds": kinds.FieldEditExpiration,
						"_created_timestamp_seconds":         kinds.FieldDateCreated,
						"_updated_timestamp_seconds":         kinds.FieldDateUpdated,
						"_score":                             kinds.FieldBrandScore,
					}[suffix]
					if v, ok := p.Value(field); ok {
						gauge(v, p.SID)
					}
				case "_error_info":
					for _, c := range p.ErrorCodes {
						gauge(1, p.SID, strconv.FormatInt(c, 10))
					}
				}
			}
		}
	}
}

const sidMain = "AC0123456789abcdef0123456789abcdef"

// snapshotOf lists objs as kind k through the simulator and the client,
// as the exporter would, and returns the snapshot with its records.
func snapshotOf(t *testing.T, k *kinds.Kind, objs []simulator.ServedObject) *snapshot.Snapshot {
	t.Helper()
	return listed(t, k, func(sim *simulator.Server) { sim.SetObjects(sidMain, k, objs) })
}

// listed lists kind k from a simulator that set sets up.
func listed(t *testing.T, k *kinds.Kind, set func(*simulator.Server)) *snapshot.Snapshot {
	t.Helper()
	sim := simulator.New()
	sim.AddAccount(sidMain, "tok", nil)
	set(sim)
	srv := httptest.NewServer(sim)
	defer srv.Close()
	c, err := twilio.New(twilio.Options{BaseURL: srv.URL, MessagingURL: srv.URL, Auth: &promconfig.BasicAuth{Username: sidMain, Password: "tok"}, PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	b := snapshot.NewBuilder(k, true)
	if k.Uses != nil {
		b.CollectSubjects(time.Now(), 30*24*time.Hour)
	}
	if _, err := c.List(context.Background(), k, kinds.Filters{}, b.Add); err != nil {
		t.Fatal(err)
	}
	if k.Uses != nil {
		b.SetUsage(usage.New(c, k, usage.Options{MaxAge: time.Hour}).Count(context.Background(), b.Subjects()))
	}
	return b.Done()
}

// served returns an Exporter whose listings serve the given snapshots, one
// per listing, all of account: the collector as it sees the world, with no
// client behind it.
func served(t *testing.T, o Options, account string, snaps ...*snapshot.Snapshot) *Exporter {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	var listings []Listing
	for _, snap := range snaps {
		list := func(context.Context) (*snapshot.Snapshot, error) { return snap, nil }
		listings = append(listings, Listing{
			Account: account, Kind: snap.Kind,
			Entry:    cache.NewEntry(ctx, account, list, cache.Options{TTL: time.Hour, Timeout: time.Minute}),
			Requests: func(func(int, uint64) bool) {},
		})
	}
	o.ExpiringDays, o.Close = []int{7, 30}, cancel
	return New(listings, o)
}

// sortedLines returns the lines of an exposition, sorted, so that two
// writers that order series differently compare equal.
func sortedLines(text string) []string {
	lines := strings.Split(strings.TrimSpace(text), "\n")
	slices.Sort(lines)
	return lines
}

// Every format, for per_object_status full and sparse.
func TestWriteProfilesMatchesClientGolang(t *testing.T) {
	for _, sparse := range []bool{false, true} {
		t.Run(map[bool]string{false: "full", true: "sparse"}[sparse], func(t *testing.T) { testWriteProfiles(t, sparse) })
	}
}

func testWriteProfiles(t *testing.T, sparse bool) {
	p := simulator.Ptr[string]
	at := func(s string) *time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return &v
	}
	profiles := []simulator.ServedObject{
		{SID: p("BU01"), Status: p("twilio-approved"), FriendlyName: p(`Quote " and backslash \ and newline` + "\n" + `end`), PolicySID: p("RN1"),
			ValidUntil: at("2027-01-01T00:00:00.5Z"), DateCreated: at("1969-12-31T23:59:58Z"), DateUpdated: at("1969-12-31T23:59:59Z")},
		{SID: p("BU02"), Status: p("twilio-rejected"), FriendlyName: p("Ünïcode ☎ café"), Errors: []simulator.ErrorCode{{Code: 22215}, {Code: -1}, {Code: 0}}},
		{SID: p("BU03"), Status: p("twilio-suspended"), ValidUntil: at("9999-12-31T23:59:59Z"), DateUpdated: at("2026-11-27T12:00:00.123456789Z")},
		{SID: p("BU04")}, // a null status: "unknown"
		{},               // no sid: no series
	}
	// Every kind, so that the families of each are held to the library,
	// and a family of one kind never mixes with another's. The Messaging
	// kinds' objects carry hostile labels, nulls and every value family.
	msg := messagingFixture(at)
	set := func(sim *simulator.Server) { sim.SetMessaging(sidMain, msg) }
	// What uses the rejected profile: two numbers and an endpoint of a
	// hostile type; the approved one's numbers are not asked for.
	assigned := func(sim *simulator.Server) {
		sim.SetObjects(sidMain, kinds.CustomerProfiles, profiles)
		var as []simulator.ServedAssignment
		for i, a := range []struct{ bundle, typ string }{{"BU02", "phone-number"}, {"BU02", "phone-number"}, {"BU02", `odd "type"` + "\n"}, {"BU01", "phone-number"}} {
			as = append(as, simulator.ServedAssignment{SID: p(fmt.Sprintf("RA%d", i)), CustomerProfileSID: p(a.bundle), ChannelEndpointType: p(a.typ)})
		}
		sim.SetAssignments(sidMain, kinds.CustomerProfiles, as)
	}
	snaps := []*snapshot.Snapshot{
		listed(t, kinds.CustomerProfiles, assigned), listed(t, kinds.TrustProducts, func(sim *simulator.Server) {
			sim.SetObjects(sidMain, kinds.TrustProducts, profiles[:3])
			sim.SetAssignments(sidMain, kinds.TrustProducts, []simulator.ServedAssignment{{SID: p("RA9"), TrustProductSID: p("BU02"), ChannelEndpointType: p("phone-number")}})
		}),
		listed(t, kinds.BrandRegistrations, set), listed(t, kinds.A2PCampaigns, set), listed(t, kinds.TollfreeVerifications, set),
	}
	s := served(t, Options{PerObject: true, SparseStatus: sparse}, `acc "one"`, snaps...).Scrape(context.Background())

	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(reference{account: `acc "one"`, snaps: snaps, sparse: sparse})
	wantFamilies, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Join(issueFamilies, " "); strings.Join(familyNames(wantFamilies), " ") != want {
		t.Fatalf("the reference has families %q, want the issue's %q", familyNames(wantFamilies), want)
	}
	// What sparse means, said apart from the reference: one series per
	// object with a sid, all 1; full has the 0s too.
	for _, mf := range wantFamilies {
		if !strings.HasSuffix(mf.GetName(), "_status") {
			continue
		}
		objects, zeros := 0, 0
		for _, snap := range snaps {
			if strings.HasSuffix(mf.GetName(), "_"+snap.Kind.Singular+"_status") {
				objects += len(slices.DeleteFunc(slices.Clone(snap.Records), func(r snapshot.Record) bool { return r.SID == "" }))
			}
		}
		for _, m := range mf.Metric {
			if m.GetGauge().GetValue() == 0 {
				zeros++
			}
		}
		if sparse && (len(mf.Metric) != objects || zeros != 0) || !sparse && (len(mf.Metric) <= objects || zeros == 0) {
			t.Errorf("%s: %d series of which %d are 0, for %d objects", mf.GetName(), len(mf.Metric), zeros, objects)
		}
	}
	// encode is what expfmt writes for the reference families.
	encode := func(enc func(io.Writer, *dto.MetricFamily) (int, error)) string {
		var b bytes.Buffer
		for _, mf := range wantFamilies {
			if _, err := enc(&b, mf); err != nil {
				t.Fatal(err)
			}
		}
		return b.String()
	}
	metricFamilyToOpenMetrics := func(w io.Writer, mf *dto.MetricFamily) (int, error) {
		return expfmt.MetricFamilyToOpenMetrics(w, mf)
	}
	for _, tc := range []struct {
		format expfmt.Format
		want   string
	}{
		{expfmt.FmtText, encode(expfmt.MetricFamilyToText)},
		{expfmt.FmtOpenMetrics_1_0_0, encode(metricFamilyToOpenMetrics) + "# EOF\n"},
	} {
		got := objectsIn(t, s, tc.format)
		if g, w := sortedLines(got), sortedLines(tc.want); !slices.Equal(g, w) {
			t.Errorf("%s: differs from expfmt's encoding:\n got:\n%s\nwant:\n%s", tc.format, strings.Join(g, "\n"), strings.Join(w, "\n"))
		}
		if !strings.Contains(got, `status="unknown"`) {
			t.Errorf("%s: the null status is not written as unknown", tc.format)
		}
		// Sorted lines say nothing of the order: the format's own parser
		// must read back every family, each in one piece.
		if families := parsedFamilies(t, got, tc.format); !slices.Equal(families, familyNames(wantFamilies)) {
			t.Errorf("%s: parsed families %q, want %q", tc.format, families, familyNames(wantFamilies))
		}
	}

	// For protobuf the families themselves must be the registry's.
	got := exposition.Gather(s.writeObjects)
	if len(got) != len(wantFamilies) {
		t.Fatalf("protobuf: %q, want %q", familyNames(got), familyNames(wantFamilies))
	}
	for i := range got {
		// The family in full: name, HELP, type, every series' labels in
		// order and value.
		if g, w := familyText(t, got[i]), familyText(t, wantFamilies[i]); g != w {
			t.Errorf("protobuf: family %s differs:\n got:\n%s\nwant:\n%s", wantFamilies[i].GetName(), g, w)
		}
	}
}

// objectsIn returns the per-object series of s in format.
func objectsIn(t *testing.T, s *Scrape, format expfmt.Format) string {
	t.Helper()
	var b bytes.Buffer
	e := exposition.NewEncoder(&b, format)
	s.writeObjects(e)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// parsedFamilies reads an exposition with its format's own parser and
// returns the names of its families, sorted.
func parsedFamilies(t *testing.T, text string, format expfmt.Format) []string {
	t.Helper()
	dec := expfmt.NewDecoder(strings.NewReader(text), format)
	var families []string
	for {
		var mf dto.MetricFamily
		if err := dec.Decode(&mf); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("%s: the output does not parse: %v", format, err)
		}
		families = append(families, mf.GetName())
	}
	slices.Sort(families) // the text parser returns them in map order
	return families
}

// familyText is a family in the text format, whole.
func familyText(t *testing.T, mf *dto.MetricFamily) string {
	t.Helper()
	var b bytes.Buffer
	if _, err := expfmt.MetricFamilyToText(&b, mf); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// issueFamilies are the per-object families of the issue's table, sorted,
// written out: alerts and dashboards are written from these names.
var issueFamilies = []string{
	"twilio_messaging_a2p_campaign_created_timestamp_seconds",
	"twilio_messaging_a2p_campaign_error_info",
	"twilio_messaging_a2p_campaign_info",
	"twilio_messaging_a2p_campaign_status",
	"twilio_messaging_a2p_campaign_updated_timestamp_seconds",
	"twilio_messaging_brand_registration_created_timestamp_seconds",
	"twilio_messaging_brand_registration_error_info",
	"twilio_messaging_brand_registration_info",
	"twilio_messaging_brand_registration_score",
	"twilio_messaging_brand_registration_status",
	"twilio_messaging_brand_registration_updated_timestamp_seconds",
	"twilio_messaging_service_phone_numbers",
	"twilio_messaging_tollfree_verification_created_timestamp_seconds",
	"twilio_messaging_tollfree_verification_edit_expiration_timestamp_seconds",
	"twilio_messaging_tollfree_verification_info",
	"twilio_messaging_tollfree_verification_status",
	"twilio_messaging_tollfree_verification_updated_timestamp_seconds",
	"twilio_trusthub_customer_profile_channel_endpoints",
	"twilio_trusthub_customer_profile_created_timestamp_seconds",
	"twilio_trusthub_customer_profile_error_info",
	"twilio_trusthub_customer_profile_info",
	"twilio_trusthub_customer_profile_status",
	"twilio_trusthub_customer_profile_updated_timestamp_seconds",
	"twilio_trusthub_customer_profile_valid_until_timestamp_seconds",
	"twilio_trusthub_trust_product_channel_endpoints",
	"twilio_trusthub_trust_product_created_timestamp_seconds",
	"twilio_trusthub_trust_product_error_info",
	"twilio_trusthub_trust_product_info",
	"twilio_trusthub_trust_product_status",
	"twilio_trusthub_trust_product_updated_timestamp_seconds",
	"twilio_trusthub_trust_product_valid_until_timestamp_seconds",
}

// messagingFixture is one account's Messaging objects with every value
// family present and absent, hostile label values, nulls and odd codes.
func messagingFixture(at func(string) *time.Time) simulator.Messaging {
	p := simulator.Ptr[string]
	hostile := `Quote " and backslash \ and newline` + "\n" + `end`
	return simulator.Messaging{
		Brands: []simulator.ServedBrand{
			simulator.SuspendedBrand("BN01", "BSUSP1", "BU01", *at("2026-11-27T12:00:00Z")),
			{SID: p("BN02"), Status: p("FAILED"), BrandType: p(hostile), CustomerProfileBundleSID: p("BU02"), Errors: []simulator.ErrorCode{simulator.MessagingError(30701), {Raw: []byte(`"30702"`)}}},
			{SID: p("BN03"), Status: p("APPROVED"), BrandScore: simulator.Ptr[int64](0), DateUpdated: at("2026-01-01T00:00:00.5Z")},
			{SID: p("BN04"), Status: p("NEW_STATUS")},
		},
		Services: []simulator.ServedService{{SID: p("MG01")}, {SID: p("MG02")}, {SID: p("MG03")}},
		// MG01's campaigns failed: its numbers are counted; MG02's
		// campaign is verified: its numbers are not asked for.
		PhoneNumbers: []simulator.ServedPhoneNumber{{SID: p("PN1"), ServiceSID: p("MG01")}, {SID: p("PN2"), ServiceSID: p("MG01")}, {SID: p("PN3"), ServiceSID: p("MG02")}},
		Campaigns: []simulator.ServedCampaign{
			{SID: p("QE01"), MessagingServiceSID: p("MG01"), BrandRegistrationSID: p("BN01"), CampaignID: p("C1"), USAppToPersonUsecase: p("MARKETING"),
				CampaignStatus: p("FAILED"), Errors: []simulator.ErrorCode{simulator.MessagingError(30897)}, DateCreated: at("2026-10-01T00:00:00Z"),
				DateUpdated: at("2026-11-01T00:00:00Z")},
			{SID: p("QE02"), MessagingServiceSID: p("MG01"), CampaignStatus: p("SUSPENDED"), CampaignID: p(hostile)},
			{SID: p("QE03"), MessagingServiceSID: p("MG02"), CampaignStatus: p("VERIFIED"), BrandRegistrationSID: p("BN03")},
		},
		Verifications: []simulator.ServedVerification{
			{SID: p("HH01"), Status: p("TWILIO_REJECTED"), ErrorCode: []byte(`30445`), EditExpiration: at("2026-12-10T00:00:00Z"),
				TollfreePhoneNumber: p("+18335550100"), BusinessName: p("Ünïcode ☎ café"), TrustProductSID: p("BU01"), CustomerProfileSID: p(hostile),
				BusinessContactEmail: p("person@example.com"), DateCreated: at("2026-11-20T00:00:00Z")},
			{SID: p("HH02"), Status: p("TWILIO_APPROVED"), DateUpdated: at("2026-11-27T12:00:00.123456789Z")},
			{SID: p("HH03"), Status: p("IN_REVIEW"), ErrorCode: []byte(`"30446"`)},
		},
	}
}

// Without per_object_metrics nothing is written or built.
func TestProfilesOff(t *testing.T) {
	s := &Scrape{e: &Exporter{perObject: false}}
	for _, format := range exposition.Offered {
		if got := objectsIn(t, s, format); strings.Contains(got, "HELP") || strings.Contains(got, "_info") {
			t.Errorf("%s: wrote %q", format, got)
		}
	}
}

func familyNames(mfs []*dto.MetricFamily) []string {
	var names []string
	for _, mf := range mfs {
		names = append(names, mf.GetName())
	}
	return names
}

// Every name the fast writers write is a legacy one, so that no escaping
// scheme a scraper asks for (escaping=underscores, dots, values) would
// change it: the writers do not escape names. (exposition.NewFamily
// refuses a family name that is not.)
func TestProfileNamesAreLegacy(t *testing.T) {
	for _, kd := range kinds.All {
		families := objectFamilies(kd, false)
		p := snapshot.Record{Kind: kd, SID: "BU1", Status: "odd", ErrorCodes: []int64{1}, Labels: make([]string, len(kd.InfoLabels)),
			Values: make([]float64, len(kd.Values)), Has: 1<<len(kd.Values) - 1}
		b := snapshot.NewBuilder(kd, false)
		b.SetUsage(map[string]snapshot.Usage{"BU1": {{By: "x", N: 1}}})
		snap := b.Done()
		mfs := exposition.Gather(func(e *exposition.Encoder) {
			k := newWriter(e)
			for i := range families {
				e.Family(families[i].Family)
				if families[i].whole != nil {
					families[i].whole(k, "a", snap)
					continue
				}
				families[i].series(k, &families[i], "a", &p)
			}
		})
		for _, mf := range mfs {
			for _, m := range mf.Metric {
				for _, lp := range m.Label {
					if !model.LegacyValidation.IsValidLabelName(lp.GetName()) {
						t.Errorf("%s: label %q is not a legacy label name", mf.GetName(), lp.GetName())
					}
				}
			}
		}
		if len(mfs) != len(families) {
			t.Errorf("%s: an object with every field gave %d families, want %d", kd.Name, len(mfs), len(families))
		}
	}
}
