package simulator

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// listRequest is the query of one list request, checked.
type listRequest struct {
	pageSize int
	// page is the page number the client sent; it only echoes in meta.
	page int
	// offset is the position, among the profiles that match, of the page's
	// first one: what PageToken carries.
	offset int
	// token is the PageToken as sent, "" when none was.
	token  string
	filter filter
}

// filter is the listing's filters; an empty field matches every profile.
type filter struct {
	status, friendlyName, policySID string
}

// badRequest is a query the API refuses with 400. Its text is the API's
// message, capitalised as Twilio writes it.
type badRequest string

func (e badRequest) Error() string { return string(e) }

// parseListRequest reads the query as the API reference describes it. An
// error is a badRequest.
func parseListRequest(q url.Values) (listRequest, error) {
	req := listRequest{
		pageSize: 50,
		token:    q.Get("PageToken"),
		filter:   filter{status: q.Get("Status"), friendlyName: q.Get("FriendlyName"), policySID: q.Get("PolicySid")},
	}
	if v := q.Get("PageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return listRequest{}, badRequest("Invalid PageSize: must be between 1 and 1000")
		}
		req.pageSize = n
	}
	if v := q.Get("Page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return listRequest{}, badRequest("Invalid Page")
		}
		req.page = n
	}
	// PageToken carries the offset of the page's first match; Page alone is
	// only client state, as in the reference.
	if req.token != "" {
		digits, ok := strings.CutPrefix(req.token, "PT")
		n, err := strconv.Atoi(digits)
		if !ok || err != nil || n < 0 {
			return listRequest{}, badRequest("Invalid PageToken")
		}
		req.offset = n
	}
	return req, nil
}

func (f filter) empty() bool { return f == filter{} }

func (f filter) match(p *stored) bool {
	return (f.status == "" || p.status == f.status) &&
		(f.friendlyName == "" || p.friendlyName == f.friendlyName) &&
		(f.policySID == "" || p.policySID == f.policySID)
}

// values is the filter as query parameters, the empty ones left out.
func (f filter) values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"Status": f.status, "FriendlyName": f.friendlyName, "PolicySid": f.policySID} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

// page returns the JSON of the objects on the requested page, and the
// offset of the next page's first match, or -1 when this page is the last.
func page(objects []stored, req listRequest) (results [][]byte, next int) {
	// Unfiltered, every profile matches and the offset is an index: start
	// there rather than scan from the first profile.
	first := 0
	if req.filter.empty() {
		first = min(req.offset, len(objects))
	}
	matched := first
	for i := first; i < len(objects); i++ {
		p := &objects[i]
		if !req.filter.match(p) {
			continue
		}
		if matched >= req.offset {
			if len(results) == req.pageSize {
				return results, matched
			}
			results = append(results, p.json)
		}
		matched++
	}
	return results, -1
}

// pageURL is the URL of a page of the same listing: the same filters and
// page size, the given page number and PageToken (none when "").
func (req listRequest) pageURL(base string, page int, token string) string {
	v := req.filter.values()
	v.Set("PageSize", strconv.Itoa(req.pageSize))
	v.Set("Page", strconv.Itoa(page))
	if token != "" {
		v.Set("PageToken", token)
	}
	return base + "?" + v.Encode()
}

// meta is the page's meta object; fault may bend its next_page_url.
func (req listRequest) meta(base, key string, next int, fault Fault) map[string]any {
	meta := map[string]any{
		"key":               key,
		"page":              req.page,
		"page_size":         req.pageSize,
		"url":               req.pageURL(base, req.page, req.token),
		"first_page_url":    req.pageURL(base, 0, ""),
		"next_page_url":     nil,
		"previous_page_url": nil,
	}
	if next >= 0 {
		meta["next_page_url"] = req.pageURL(base, req.page+1, "PT"+strconv.Itoa(next))
	} else if fault.Endless {
		meta["next_page_url"] = req.pageURL(base, req.page+1, "PT"+strconv.Itoa(req.offset+req.pageSize))
	}
	switch fault.NextPageURL {
	case "":
	case "self":
		meta["next_page_url"] = meta["url"]
	default:
		meta["next_page_url"] = fault.NextPageURL
	}
	if req.page > 0 {
		meta["previous_page_url"] = req.pageURL(base, req.page-1, "PT"+strconv.Itoa(max(0, req.offset-req.pageSize)))
	}
	return meta
}

// writePage writes the page: meta, then the profiles' JSON as stored,
// copied rather than encoded again, padded if fault says so.
func writePage(w http.ResponseWriter, base, key string, req listRequest, results [][]byte, next int, fault Fault) {
	metaJSON, _ := json.Marshal(req.meta(base, key, next, fault))
	var b bytes.Buffer
	b.WriteString(`{"meta":`)
	b.Write(metaJSON)
	b.WriteString(`,"` + key + `":[`)
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
