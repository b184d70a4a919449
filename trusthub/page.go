package trusthub

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// Profile is what the exporter needs of one Customer-Profile. A null in the
// API answer leaves the zero value: "" for strings, the zero time.
type Profile struct {
	SID          string
	FriendlyName string
	PolicySID    string
	Status       string
	ValidUntil   time.Time
	DateUpdated  time.Time
	// ErrorCodes holds each code of the profile's errors list once.
	ErrorCodes []int64
}

// wireProfile mirrors the JSON of one result. Fields the exporter never
// exports (email, status_callback, links) are left out, so they are skipped
// by the decoder instead of being allocated.
type wireProfile struct {
	SID          string        `json:"sid"`
	FriendlyName string        `json:"friendly_name"`
	PolicySID    string        `json:"policy_sid"`
	Status       string        `json:"status"`
	ValidUntil   time.Time     `json:"valid_until"`
	DateUpdated  time.Time     `json:"date_updated"`
	Errors       []wireErrCode `json:"errors"`
}

type wireErrCode struct {
	Code *int64 `json:"code"`
}

// Meta is the paging part of a list page.
type Meta struct {
	NextPageURL string `json:"next_page_url"`
	Page        int    `json:"page"`
	PageSize    int    `json:"page_size"`
}

// DecodePage reads one list page from r, calling fn for each profile as it
// is decoded, so that a page is never held in memory whole. fn must not keep
// the *Profile or its ErrorCodes: both are reused for the next profile. It fails on
// anything that is not a page: a body that is not a JSON object, a results
// that is not a list, a missing meta, a malformed date.
func DecodePage(r io.Reader, fn func(*Profile) error) (Meta, error) {
	var meta Meta
	dec := json.NewDecoder(r)
	if err := expectDelim(dec, '{', "the page"); err != nil {
		return meta, err
	}
	var sawMeta, sawResults bool
	var p Profile
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return meta, fmt.Errorf("decoding page: %w", err)
		}
		key, _ := tok.(string)
		switch key {
		case "meta":
			if err := decodeMeta(dec, &meta); err != nil {
				return meta, err
			}
			sawMeta = true
		case "results":
			if err := expectDelim(dec, '[', "results"); err != nil {
				return meta, err
			}
			for i := 0; dec.More(); i++ {
				var wp *wireProfile
				if err := dec.Decode(&wp); err != nil {
					return meta, fmt.Errorf("decoding results[%d]: %w", i, err)
				}
				if wp == nil {
					return meta, fmt.Errorf("decoding results[%d]: null instead of a profile", i)
				}
				p = Profile{
					SID:          wp.SID,
					FriendlyName: wp.FriendlyName,
					PolicySID:    wp.PolicySID,
					Status:       wp.Status,
					ValidUntil:   wp.ValidUntil,
					DateUpdated:  wp.DateUpdated,
					ErrorCodes:   uniqueCodes(p.ErrorCodes[:0], wp.Errors),
				}
				if err := fn(&p); err != nil {
					return meta, err
				}
			}
			if _, err := dec.Token(); err != nil { // the closing ]
				return meta, fmt.Errorf("decoding results: %w", err)
			}
			sawResults = true
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return meta, fmt.Errorf("decoding page: %w", err)
			}
		}
	}
	if _, err := dec.Token(); err != nil { // the closing }
		return meta, fmt.Errorf("decoding page: %w", err)
	}
	switch {
	case !sawMeta:
		return meta, errors.New("decoding page: no meta object")
	case !sawResults:
		return meta, errors.New("decoding page: no results list")
	}
	return meta, nil
}

func decodeMeta(dec *json.Decoder, meta *Meta) error {
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return fmt.Errorf("decoding meta: %w", err)
	}
	if len(raw) == 0 || raw[0] != '{' {
		return errors.New("decoding meta: not an object")
	}
	if err := json.Unmarshal(raw, meta); err != nil {
		return fmt.Errorf("decoding meta: %w", err)
	}
	return nil
}

func expectDelim(dec *json.Decoder, want json.Delim, what string) error {
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("decoding %s: %w", what, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		kind := "an object"
		if want == '[' {
			kind = "a list"
		}
		return fmt.Errorf("decoding %s: not %s", what, kind)
	}
	return nil
}

// uniqueCodes appends each non-null code once, so a profile counts once per
// code however often Twilio repeats it. The lists are a handful long, so a
// linear scan beats a map.
func uniqueCodes(dst []int64, errs []wireErrCode) []int64 {
	for _, e := range errs {
		if e.Code == nil {
			continue
		}
		dup := false
		for _, c := range dst {
			if c == *e.Code {
				dup = true
				break
			}
		}
		if !dup {
			dst = append(dst, *e.Code)
		}
	}
	return dst
}
