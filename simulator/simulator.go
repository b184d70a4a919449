// Package simulator is a simulated Twilio compliance API (TrustHub's
// Customer-Profiles and Trust Products; Messaging's A2P brands, Messaging
// Services and their A2P campaigns, and toll-free verifications), for the
// exporter's --demo mode and its tests. It serves every kind of package
// kinds on its list path (both hosts' paths on one server), and follows
// the API reference: basic auth, PageSize, PageToken and Page,
// next_page_url, the list key of each kind, the Status, FriendlyName and
// PolicySid filters, and Twilio's error body.
package simulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
)

// The list paths and keys are the kinds' declarations, not copies, so they
// are written once. The fake still holds the client to the API reference
// rather than to itself: its own tests request the documented paths written
// out in full, so a wrong declaration fails them instead of being served.

// ErrorCode is one entry of an object's errors list: {"code": Code}, or
// Raw as it stands when set, for the odd items the API reference allows.
type ErrorCode struct {
	Code int64
	Raw  json.RawMessage
}

// MarshalJSON writes the item.
func (e ErrorCode) MarshalJSON() ([]byte, error) {
	if e.Raw != nil {
		return e.Raw, nil
	}
	return json.Marshal(map[string]int64{"code": e.Code})
}

// ServedObject is one Customer-Profile or Trust Product as the simulator
// serves it: every field the API reference shows, as it returns them. A nil
// pointer is sent as null.
type ServedObject struct {
	SID            *string     `json:"sid"`
	AccountSID     *string     `json:"account_sid"`
	PolicySID      *string     `json:"policy_sid"`
	FriendlyName   *string     `json:"friendly_name"`
	Status         *string     `json:"status"`
	ValidUntil     *time.Time  `json:"valid_until"`
	Email          *string     `json:"email"`
	StatusCallback *string     `json:"status_callback"`
	DateCreated    *time.Time  `json:"date_created"`
	DateUpdated    *time.Time  `json:"date_updated"`
	URL            *string     `json:"url"`
	Errors         []ErrorCode `json:"errors"`
}

// ServedAssignment is a channel endpoint assignment of a Customer-Profile
// or a Trust Product: what the bundle is used by. It is listed under the
// bundle its CustomerProfileSID (or TrustProductSID) names.
type ServedAssignment struct {
	SID                 *string    `json:"sid"`
	CustomerProfileSID  *string    `json:"customer_profile_sid,omitempty"`
	TrustProductSID     *string    `json:"trust_product_sid,omitempty"`
	AccountSID          *string    `json:"account_sid"`
	ChannelEndpointType *string    `json:"channel_endpoint_type"`
	ChannelEndpointSID  *string    `json:"channel_endpoint_sid"`
	DateCreated         *time.Time `json:"date_created"`
	URL                 *string    `json:"url"`
}

func (a ServedAssignment) stored(accountSID, base string) stored {
	fill(&a.AccountSID, &a.URL, a.SID, accountSID, base)
	bundle := deref(a.CustomerProfileSID)
	if bundle == "" {
		bundle = deref(a.TrustProductSID)
	}
	return stored{parent: bundle, json: encode(a)}
}

// SetAssignments replaces the account's channel endpoint assignments of
// the bundles of kind k (Customer-Profiles or Trust Products).
func (s *Server) SetAssignments(accountSID string, k *kinds.Kind, assignments []ServedAssignment) {
	Set(s, accountSID, k.Uses.List, assignments)
}

// Ptr returns a pointer to v, for building profiles.
func Ptr[T any](v T) *T { return &v }

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// stored is an object with its JSON encoded once, so a page is a copy.
type stored struct {
	status, friendlyName, policySID string
	// parent is the sid of the parent the object is listed under (see
	// kinds.Kind.Parent); "" for a kind without one.
	parent string
	json   []byte
}

// Served is an object the simulator serves: a ServedObject, ServedBrand,
// ServedService, ServedCampaign or ServedVerification.
type Served interface {
	// stored encodes the object as listed in the account at the list URL
	// base, filling in its account_sid and url when nil.
	stored(accountSID, base string) stored
}

// encode is the JSON of a served object, which always encodes.
func encode(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// fill sets *accountSID and *url when nil: the url to base/sid.
func fill(accountSID **string, url **string, sid *string, account, base string) {
	if *accountSID == nil {
		*accountSID = Ptr(account)
	}
	if *url == nil && sid != nil {
		*url = Ptr(base + "/" + *sid)
	}
}

func (p ServedObject) stored(accountSID, base string) stored {
	fill(&p.AccountSID, &p.URL, p.SID, accountSID, base)
	return stored{status: deref(p.Status), friendlyName: deref(p.FriendlyName), policySID: deref(p.PolicySID), json: encode(p)}
}

// hostURLs are the real APIs' base URLs, for the objects' url fields.
var hostURLs = map[kinds.Host]string{kinds.TrustHub: "https://trusthub.twilio.com", kinds.Messaging: "https://messaging.twilio.com"}

type account struct {
	meta accountMeta
	// objects are by listKey.
	objects map[string][]stored
}

// listKey names the list of kind k under parent ("" for a kind without
// parents).
func listKey(k *kinds.Kind, parent string) string {
	return k.Name + "\x00" + parent
}

// Server is an http.Handler serving the simulated API.
type Server struct {
	mu       sync.RWMutex
	accounts map[string]*account // by account SID
	users    map[string]user     // by basic-auth user: account SID or API key
	// accountOrder are the account SIDs in the order they were added:
	// the Accounts API's order.
	accountOrder []string

	fault *Fault

	requests atomic.Int64
	// inFlight and maxInFlight count the object list requests being
	// answered, now and at most: what a bound on listings must hold.
	inFlight, maxInFlight atomic.Int64
	// byUser counts the requests of each user being answered.
	byUser inFlightByUser
	// byPath counts requests per path.
	byPath sync.Map // string -> *atomic.Int64
}

type user struct {
	password   string
	accountSID string
}

// New returns an empty simulator.
func New() *Server {
	return &Server{accounts: map[string]*account{}, users: map[string]user{}}
}

// AddAccount registers an account that authenticates with its SID and
// authToken, and replaces its Customer-Profiles (see SetObjects).
func (s *Server) AddAccount(accountSID, authToken string, profiles []ServedObject) {
	s.mu.Lock()
	if s.accounts[accountSID] == nil {
		s.accounts[accountSID] = &account{objects: map[string][]stored{}, meta: accountMeta{
			sid: accountSID, owner: accountSID, friendlyName: accountSID, status: "active",
			// A second apart, as real accounts are created apart.
			created: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(len(s.accountOrder)) * time.Second),
		}}
		s.accountOrder = append(s.accountOrder, accountSID)
	}
	s.users[accountSID] = user{password: authToken, accountSID: accountSID}
	s.mu.Unlock()
	s.SetObjects(accountSID, kinds.CustomerProfiles, profiles)
}

// SetObjects replaces the account's Customer-Profiles or Trust Products
// (kind k); the account must have been added. Each object's account_sid
// and url are filled in when nil.
func (s *Server) SetObjects(accountSID string, k *kinds.Kind, objects []ServedObject) {
	Set(s, accountSID, k, objects)
}

// Set replaces the account's objects of kind k, as SetObjects does for any
// kind. The objects of a kind with a parent (A2P campaigns) are served
// under the parent their messaging_service_sid names; the parents
// themselves (Messaging Services) are kind k.Parent.
func Set[T Served](s *Server, accountSID string, k *kinds.Kind, objects []T) {
	base := hostURLs[k.Host] + k.ListPath
	lists := map[string][]stored{}
	for _, o := range objects {
		st := o.stored(accountSID, base)
		if strings.Contains(k.ListPath, kinds.ParentSID) {
			base := hostURLs[k.Host] + k.Path(st.parent)
			st = o.stored(accountSID, base)
		}
		key := listKey(k, st.parent)
		lists[key] = append(lists[key], st)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	objs := s.accounts[accountSID].objects
	for key := range objs {
		if strings.HasPrefix(key, listKey(k, "")) {
			delete(objs, key)
		}
	}
	for key, list := range lists {
		objs[key] = list
	}
}

// AddAPIKey lets an API key and secret authenticate for an account.
func (s *Server) AddAPIKey(accountSID, key, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[key] = user{password: secret, accountSID: accountSID}
}

// Requests is the number of requests served so far, whatever their answer.
func (s *Server) Requests() int64 { return s.requests.Load() }

// MaxInFlight is the most object list requests (not Accounts requests)
// answered at once so far.
func (s *Server) MaxInFlight() int64 { return s.maxInFlight.Load() }

// MaxInFlightOf is the most requests of the basic-auth user (an account
// SID, or an API key) being answered at once so far, of any path. A
// request counts from its arrival until its answer starts, so that one
// counted is one the client is still waiting for.
func (s *Server) MaxInFlightOf(user string) int64 { return s.byUser.max(user) }

// RequestsTo is the number of requests to path served so far, whatever
// their answer.
func (s *Server) RequestsTo(path string) int64 {
	if n, ok := s.byPath.Load(path); ok {
		return n.(*atomic.Int64).Load()
	}
	return 0
}

// Paths returns the number of requests served so far to every path
// asked for, whatever their answer.
func (s *Server) Paths() map[string]int64 {
	out := map[string]int64{}
	s.byPath.Range(func(k, v any) bool {
		out[k.(string)] = v.(*atomic.Int64).Load()
		return true
	})
	return out
}

// kindAt returns the kind listed at path, and the parent it is listed
// under ("" for a kind without parents). The parents' own list (Messaging
// Services) is served as kind Parent, and what uses an object (its
// channel endpoint assignments, a service's phone numbers) as the Usage's
// List under the object's sid.
func kindAt(path string) (*kinds.Kind, string, bool) {
	for _, k := range kinds.All {
		if k.Parent != nil && path == k.Parent.ListPath {
			return k.Parent, "", true
		}
		if parent, ok := k.MatchPath(path); ok {
			return k, parent, true
		}
		if k.Uses != nil {
			if subject, ok := k.Uses.List.MatchPath(path); ok {
				return k.Uses.List, subject, true
			}
		}
	}
	return nil, "", false
}

// twilioError is Twilio's error body.
type twilioError struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

func writeError(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(twilioError{
		Code: code, Message: msg, Status: status,
		MoreInfo: fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code),
	})
}

// ServeHTTP answers a list request as the API does: it checks the path,
// the method and the credentials, acts out any fault, then serves the page
// the query asks for.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	user, _, _ := r.BasicAuth()
	tw := s.byUser.track(user, w)
	defer tw.finish()
	w = tw
	n, _ := s.byPath.LoadOrStore(r.URL.Path, new(atomic.Int64))
	n.(*atomic.Int64).Add(1)
	if r.URL.Path == AccountsPath && r.Method == http.MethodGet {
		if s.authenticate(r) == nil {
			w.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
			writeError(w, http.StatusUnauthorized, 20003, "Authenticate")
			return
		}
		fault := s.takeFault(r.URL.Path)
		if applyBefore(w, r, fault) {
			return
		}
		s.serveAccounts(w, r, user, fault)
		return
	}
	k, parent, ok := kindAt(r.URL.Path)
	if !ok {
		writeError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
		return
	}
	if r.Method != http.MethodGet {
		writeError(w, http.StatusMethodNotAllowed, 20004, "Method not allowed")
		return
	}
	acc := s.authenticate(r)
	if acc == nil {
		w.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
		writeError(w, http.StatusUnauthorized, 20003, "Authenticate")
		return
	}
	if cur := s.inFlight.Add(1); cur > s.maxInFlight.Load() {
		// A lost race lowers no maximum: retry until the larger stays.
		for m := s.maxInFlight.Load(); cur > m && !s.maxInFlight.CompareAndSwap(m, cur); m = s.maxInFlight.Load() {
		}
	}
	defer s.inFlight.Add(-1)
	fault := s.takeFault(r.URL.Path)
	if applyBefore(w, r, fault) {
		return
	}
	req, err := parseListRequest(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, 20001, err.Error())
		return
	}
	s.mu.RLock()
	objects := acc.objects[listKey(k, parent)]
	s.mu.RUnlock()
	results, next := page(objects, req)
	writePage(w, "http://"+r.Host+r.URL.Path, k.ListKey, req, results, next, fault)
}

// authenticate returns the account whose credentials the request carries,
// or nil.
func (s *Server) authenticate(r *http.Request) *account {
	name, pass, ok := r.BasicAuth()
	s.mu.RLock()
	defer s.mu.RUnlock()
	u, known := s.users[name]
	if !ok || !known || pass != u.password {
		return nil
	}
	if a := s.accounts[u.accountSID]; a == nil || a.meta.status == "closed" {
		return nil
	}
	return s.accounts[u.accountSID]
}
