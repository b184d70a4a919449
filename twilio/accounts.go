package twilio

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"time"

	promconfig "github.com/prometheus/common/config"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
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
// the account itself included, calling fn for each once its page is read
// whole. A next_page_uri is a path resolved against the accounts base URL,
// and is not followed to another host. Requests are counted apart from
// the kinds' (see AccountsRequests) and retried as theirs are.
func (c *Client) ListAccounts(ctx context.Context, q AccountsQuery, fn func(Account) error) (int, error) {
	base := c.bases[kinds.Accounts]
	if base == nil {
		return 0, fmt.Errorf("no %s", kinds.Accounts.ConfigKey())
	}
	v := url.Values{}
	v.Set("PageSize", strconv.Itoa(c.pageSize))
	if q.Status != "" {
		v.Set("Status", q.Status)
	}
	if q.FriendlyName != "" {
		v.Set("FriendlyName", q.FriendlyName)
	}
	first := *base
	first.Path += AccountsPath
	first.RawQuery = v.Encode()
	// The page's accounts are handed on once it is read whole: a try
	// that fails part-way and is retried must not hand any on twice.
	var page accountsPage
	return c.list(ctx, pager{
		counted: accountsCounted, host: kinds.Accounts, link: "next_page_uri",
		decode: func(r io.Reader, _ func(string)) (string, error) {
			// The link comes after the list: nothing to ask for early.
			page = accountsPage{}
			if err := json.NewDecoder(r).Decode(&page); err != nil {
				return "", fmt.Errorf("accounts page: %w", err)
			}
			if page.NextPageURI == nil {
				return "", nil
			}
			return *page.NextPageURI, nil
		},
		done: func() error {
			for _, w := range page.Accounts {
				if err := fn(Account{
					SID: w.SID, OwnerAccountSID: w.OwnerAccountSID, FriendlyName: w.FriendlyName, Status: w.Status,
					AuthToken: promconfig.Secret(w.AuthToken), DateCreated: rfc2822(w.DateCreated), DateUpdated: rfc2822(w.DateUpdated),
				}); err != nil {
					return err
				}
			}
			return nil
		},
	}, first.String())
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
