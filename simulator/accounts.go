package simulator

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// AccountsPath is where the 2010 API lists accounts.
const AccountsPath = "/2010-04-01/Accounts.json"

// accountMeta is what the 2010 Accounts API tells of an account.
type accountMeta struct {
	sid, owner, friendlyName, status string
	created                          time.Time
}

// accountJSON is an account as the 2010 API writes it.
type accountJSON struct {
	SID             string            `json:"sid"`
	OwnerAccountSID string            `json:"owner_account_sid"`
	FriendlyName    string            `json:"friendly_name"`
	Status          string            `json:"status"`
	Type            string            `json:"type"`
	AuthToken       string            `json:"auth_token"`
	DateCreated     string            `json:"date_created"`
	DateUpdated     string            `json:"date_updated"`
	URI             string            `json:"uri"`
	SubresourceURIs map[string]string `json:"subresource_uris"`
}

// AddSubaccount registers a subaccount of parent (an account added
// before), active, with its own auth token and no objects; set them with
// SetObjects, Set or SetMessaging under its sid. The parent's credentials
// list it in /2010-04-01/Accounts.json; its own reach only its objects.
func (s *Server) AddSubaccount(parent, sid, friendlyName, authToken string) {
	s.AddAccount(sid, authToken, nil)
	s.mu.Lock()
	defer s.mu.Unlock()
	m := &s.accounts[sid].meta
	m.owner, m.friendlyName = parent, friendlyName
}

// SetAccountStatus changes an account's status (active, suspended or
// closed). A closed account's credentials are refused, as Twilio's are.
func (s *Server) SetAccountStatus(sid, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accounts[sid].meta.status = status
}

// serveAccounts answers GET /2010-04-01/Accounts.json for the account the
// credentials belong to: itself and, for a parent, its subaccounts,
// filtered by Status and FriendlyName (exact), PageSize at a time, the
// paging keys at the top level and relative.
func (s *Server) serveAccounts(w http.ResponseWriter, r *http.Request, user string, fault Fault) {
	q := r.URL.Query()
	size := 50
	if v := q.Get("PageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			writeError(w, http.StatusBadRequest, 20001, "Invalid PageSize")
			return
		}
		size = n
	}
	pageNo, offset := 0, 0
	if v := q.Get("Page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, 20001, "Invalid Page")
			return
		}
		pageNo = n
	}
	if v := q.Get("PageToken"); v != "" {
		n, err := strconv.Atoi(v[min(2, len(v)):])
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, 20001, "Invalid PageToken")
			return
		}
		offset = n
	}
	status, name := q.Get("Status"), q.Get("FriendlyName")
	var matched []accountJSON
	s.mu.RLock()
	caller := s.users[user].accountSID
	for _, sid := range s.accountOrder {
		m := &s.accounts[sid].meta
		if (m.sid != caller && m.owner != caller) || (status != "" && m.status != status) || (name != "" && m.friendlyName != name) {
			continue
		}
		date := m.created.Format(time.RFC1123Z)
		uri := "/2010-04-01/Accounts/" + m.sid + ".json"
		matched = append(matched, accountJSON{
			SID: m.sid, OwnerAccountSID: m.owner, FriendlyName: m.friendlyName, Status: m.status, Type: "Full",
			AuthToken: s.users[m.sid].password, DateCreated: date, DateUpdated: date, URI: uri,
			SubresourceURIs: map[string]string{"calls": "/2010-04-01/Accounts/" + m.sid + "/Calls.json"},
		})
	}
	s.mu.RUnlock()
	results := matched[min(offset, len(matched)):]
	next := any(nil)
	if len(results) > size {
		results = results[:size]
		next = accountsPageURI(q, size, pageNo+1, "PA"+strconv.Itoa(offset+size))
	}
	switch fault.NextPageURL {
	case "":
	case "self":
		next = accountsPageURI(q, size, pageNo, q.Get("PageToken"))
	default:
		next = fault.NextPageURL
	}
	var previous any
	if pageNo > 0 {
		previous = accountsPageURI(q, size, pageNo-1, "PA"+strconv.Itoa(max(0, offset-size)))
	}
	if results == nil {
		results = []accountJSON{}
	}
	body := map[string]any{
		"accounts":          results,
		"page":              pageNo,
		"page_size":         size,
		"start":             offset,
		"end":               offset + max(len(results)-1, 0),
		"uri":               accountsPageURI(q, size, pageNo, q.Get("PageToken")),
		"first_page_uri":    accountsPageURI(q, size, 0, ""),
		"next_page_uri":     next,
		"previous_page_uri": previous,
	}
	var b bytes.Buffer
	_ = json.NewEncoder(&b).Encode(body)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	_, _ = w.Write(b.Bytes())
}

// accountsPageURI is a relative page URI with the request's filters.
func accountsPageURI(q url.Values, size, page int, token string) string {
	v := url.Values{}
	for _, k := range []string{"Status", "FriendlyName"} {
		if q.Get(k) != "" {
			v.Set(k, q.Get(k))
		}
	}
	v.Set("PageSize", strconv.Itoa(size))
	v.Set("Page", strconv.Itoa(page))
	if token != "" {
		v.Set("PageToken", token)
	}
	return AccountsPath + "?" + v.Encode()
}
