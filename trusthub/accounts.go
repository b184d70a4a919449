package trusthub

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"time"

	promconfig "github.com/prometheus/common/config"
)

// AccountsPath is where the 2010 API lists an account and its subaccounts.
const AccountsPath = "/2010-04-01/Accounts.json"

// accountsCounted is the name the client counts the accounts requests by,
// apart from every kind's.
const accountsCounted = "accounts"

// Account is one account of the 2010 Accounts API's list.
type Account struct {
	SID             string
	OwnerAccountSID string
	FriendlyName    string
	Status          string
	// AuthToken is the account's own token: a secret, which %v does not
	// print.
	AuthToken promconfig.Secret
	// DateCreated and DateUpdated are zero when absent or unreadable.
	DateCreated, DateUpdated time.Time
}

// String describes the account without its token, so that no %v can
// print it, even by mistake.
func (a Account) String() string {
	return fmt.Sprintf("{sid:%s owner_account_sid:%s status:%s}", a.SID, a.OwnerAccountSID, a.Status)
}

// GoString is String, for %#v.
func (a Account) GoString() string { return a.String() }

// AccountsQuery filters the accounts list. Twilio filters by one status
// and by an exact friendly name; both are optional.
type AccountsQuery struct {
	Status, FriendlyName string
}

// accountsPage is a page of the 2010 API: no meta object, the paging keys
// at the top level and relative.
type accountsPage struct {
	Accounts    []wireAccount `json:"accounts"`
	NextPageURI *string       `json:"next_page_uri"`
}

type wireAccount struct {
	SID             string `json:"sid"`
	OwnerAccountSID string `json:"owner_account_sid"`
	FriendlyName    string `json:"friendly_name"`
	Status          string `json:"status"`
	AuthToken       string `json:"auth_token"`
	DateCreated     string `json:"date_created"`
	DateUpdated     string `json:"date_updated"`
}

// rfc2822 parses the 2010 API's dates ("Thu, 30 Jul 2015 20:00:00 +0000");
// zero when it cannot.
func rfc2822(s string) time.Time {
	t, err := time.Parse(time.RFC1123Z, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// ListAccounts fetches every page of the accounts the credentials see,
// the account itself included, calling fn for each. A next_page_uri is a
// path resolved against the accounts base URL, and is not followed to
// another host. Requests are counted apart from the kinds' and retried as
// theirs are.
func (c *Client) ListAccounts(ctx context.Context, q AccountsQuery, fn func(Account) error) (int, error) {
	if c.accounts == nil {
		return 0, fmt.Errorf("no accounts_api_url")
	}
	v := url.Values{}
	v.Set("PageSize", strconv.Itoa(c.pageSize))
	if q.Status != "" {
		v.Set("Status", q.Status)
	}
	if q.FriendlyName != "" {
		v.Set("FriendlyName", q.FriendlyName)
	}
	first := *c.accounts
	first.Path += AccountsPath
	first.RawQuery = v.Encode()
	next := first.String()
	var seen []string
	for pages := 0; ; pages++ {
		if pages == c.maxPages {
			return pages, &PagingError{fmt.Sprintf("gave up after %d pages; next_page_uri never ended", c.maxPages)}
		}
		seen = append(seen, next)
		var page accountsPage
		err := c.retrying(ctx, func() error {
			resp, err := c.get(ctx, accountsCounted, next)
			if err != nil {
				return err
			}
			defer closeBody(resp)
			lr := &io.LimitedReader{R: resp.Body, N: c.maxBytes + 1}
			page = accountsPage{}
			err = json.NewDecoder(lr).Decode(&page)
			if lr.N <= 0 {
				return &DecodeError{fmt.Errorf("answer larger than %d bytes", c.maxBytes)}
			}
			if err != nil {
				return &DecodeError{fmt.Errorf("accounts page: %w", err)}
			}
			return nil
		})
		if err != nil {
			return pages, fmt.Errorf("accounts page %d: %w", pages, err)
		}
		for _, w := range page.Accounts {
			if err := fn(Account{
				SID: w.SID, OwnerAccountSID: w.OwnerAccountSID, FriendlyName: w.FriendlyName, Status: w.Status,
				AuthToken: promconfig.Secret(w.AuthToken), DateCreated: rfc2822(w.DateCreated), DateUpdated: rfc2822(w.DateUpdated),
			}); err != nil {
				return pages + 1, err
			}
		}
		if page.NextPageURI == nil || *page.NextPageURI == "" {
			return pages + 1, nil
		}
		u, err := c.accounts.Parse(*page.NextPageURI)
		if err != nil {
			return pages + 1, &PagingError{"next_page_uri is not a URL: " + err.Error()}
		}
		if u.Scheme != c.accounts.Scheme || u.Host != c.accounts.Host {
			return pages + 1, &PagingError{fmt.Sprintf("next_page_uri points to %s://%s, not to accounts_api_url %s://%s; not following it with the credentials",
				u.Scheme, u.Host, c.accounts.Scheme, c.accounts.Host)}
		}
		next = u.String()
		if slices.Contains(seen, next) {
			return pages + 1, &PagingError{fmt.Sprintf("next_page_uri of page %d repeats an earlier page", pages)}
		}
	}
}

// AccountsRequests returns how many accounts requests got an answer, by
// HTTP status code.
func (c *Client) AccountsRequests() map[int]uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[int]uint64{}
	for key, v := range c.requests {
		if key.kind == accountsCounted {
			out[key.code] = v
		}
	}
	return out
}
