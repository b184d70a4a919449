// Package simulator is a simulated TrustHub Customer-Profiles API, for the
// exporter's --demo mode and its tests. It follows the API reference: basic
// auth, PageSize, PageToken and Page, next_page_url, the Status,
// FriendlyName and PolicySid filters, and Twilio's error body.
package simulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const listPath = "/v1/CustomerProfiles"

// ErrorCode is one entry of a profile's errors list.
type ErrorCode struct {
	Code int64 `json:"code"`
}

// Profile is one Customer-Profile as the API returns it. A nil pointer is
// sent as null.
type Profile struct {
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

// Ptr returns a pointer to v, for building profiles.
func Ptr[T any](v T) *T { return &v }

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// stored is a profile with its JSON encoded once, so a page is a copy.
type stored struct {
	status, friendlyName, policySID string
	json                            []byte
}

type account struct {
	profiles []stored
}

// Server is an http.Handler serving the simulated API.
type Server struct {
	mu       sync.RWMutex
	accounts map[string]*account // by account SID
	users    map[string]user     // by basic-auth user: account SID or API key

	fault *Fault

	requests atomic.Int64
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
// authToken, and replaces its profiles. Each profile's account_sid and url
// are filled in when nil.
func (s *Server) AddAccount(accountSID, authToken string, profiles []Profile) {
	acc := &account{profiles: make([]stored, 0, len(profiles))}
	for _, p := range profiles {
		if p.AccountSID == nil {
			p.AccountSID = Ptr(accountSID)
		}
		if p.URL == nil && p.SID != nil {
			p.URL = Ptr("https://trusthub.twilio.com" + listPath + "/" + *p.SID)
		}
		b, err := json.Marshal(p)
		if err != nil {
			panic(err) // a Profile always encodes
		}
		acc.profiles = append(acc.profiles, stored{
			status: deref(p.Status), friendlyName: deref(p.FriendlyName), policySID: deref(p.PolicySID), json: b,
		})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accounts[accountSID] = acc
	s.users[accountSID] = user{password: authToken, accountSID: accountSID}
}

// AddAPIKey lets an API key and secret authenticate for an account.
func (s *Server) AddAPIKey(accountSID, key, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[key] = user{password: secret, accountSID: accountSID}
}

// Requests is the number of requests served so far, whatever their answer.
func (s *Server) Requests() int64 { return s.requests.Load() }

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

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	if r.URL.Path != listPath {
		writeError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
		return
	}
	if r.Method != http.MethodGet {
		writeError(w, http.StatusMethodNotAllowed, 20004, "Method not allowed")
		return
	}
	name, pass, ok := r.BasicAuth()
	s.mu.RLock()
	u, known := s.users[name]
	acc := s.accounts[u.accountSID]
	s.mu.RUnlock()
	if !ok || !known || pass != u.password || acc == nil {
		w.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
		writeError(w, http.StatusUnauthorized, 20003, "Authenticate")
		return
	}
	fault := s.takeFault()
	if applyBefore(w, r, fault) {
		return
	}

	q := r.URL.Query()
	pageSize := 50
	if v := q.Get("PageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			writeError(w, http.StatusBadRequest, 20001, "Invalid PageSize: must be between 1 and 1000")
			return
		}
		pageSize = n
	}
	page := 0
	if v := q.Get("Page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, 20001, "Invalid Page")
			return
		}
		page = n
	}
	// PageToken carries the offset of the page's first match; Page alone is
	// only client state, as in the reference.
	offset := 0
	if v := q.Get("PageToken"); v != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(v, "PT"))
		if err != nil || n < 0 || !strings.HasPrefix(v, "PT") {
			writeError(w, http.StatusBadRequest, 20001, "Invalid PageToken")
			return
		}
		offset = n
	}
	status, friendly, policy := q.Get("Status"), q.Get("FriendlyName"), q.Get("PolicySid")
	match := func(p *stored) bool {
		return (status == "" || p.status == status) &&
			(friendly == "" || p.friendlyName == friendly) &&
			(policy == "" || p.policySID == policy)
	}

	var results [][]byte
	next := -1
	if status == "" && friendly == "" && policy == "" {
		// Unfiltered, the token is an index: no scan from the start.
		for i := offset; i < len(acc.profiles); i++ {
			if len(results) == pageSize {
				next = i
				break
			}
			results = append(results, acc.profiles[i].json)
		}
	} else {
		matched := 0
		for i := range acc.profiles {
			p := &acc.profiles[i]
			if !match(p) {
				continue
			}
			if matched >= offset {
				if len(results) == pageSize {
					next = matched
					break
				}
				results = append(results, p.json)
			}
			matched++
		}
	}

	base := "http://" + r.Host + listPath
	filters := url.Values{}
	for k, v := range map[string]string{"Status": status, "FriendlyName": friendly, "PolicySid": policy} {
		if v != "" {
			filters.Set(k, v)
		}
	}
	pageURL := func(page int, token string) string {
		v := url.Values{}
		for k, vs := range filters {
			v[k] = vs
		}
		v.Set("PageSize", strconv.Itoa(pageSize))
		v.Set("Page", strconv.Itoa(page))
		if token != "" {
			v.Set("PageToken", token)
		}
		return base + "?" + v.Encode()
	}
	meta := map[string]any{
		"key":               "results",
		"page":              page,
		"page_size":         pageSize,
		"url":               pageURL(page, q.Get("PageToken")),
		"first_page_url":    pageURL(0, ""),
		"next_page_url":     nil,
		"previous_page_url": nil,
	}
	if next >= 0 {
		meta["next_page_url"] = pageURL(page+1, "PT"+strconv.Itoa(next))
	} else if fault.Endless {
		meta["next_page_url"] = pageURL(page+1, "PT"+strconv.Itoa(offset+pageSize))
	}
	switch fault.NextPageURL {
	case "":
	case "self":
		meta["next_page_url"] = meta["url"]
	default:
		meta["next_page_url"] = fault.NextPageURL
	}
	if page > 0 {
		meta["previous_page_url"] = pageURL(page-1, "PT"+strconv.Itoa(max(0, offset-pageSize)))
	}
	metaJSON, _ := json.Marshal(meta)

	var b bytes.Buffer
	b.WriteString(`{"meta":`)
	b.Write(metaJSON)
	b.WriteString(`,"results":[`)
	for i, p := range results {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(p)
	}
	b.WriteString("]")
	b.Write(bytes.Repeat([]byte(" "), fault.Oversize))
	b.WriteString("}")
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	_, _ = w.Write(b.Bytes())
}
