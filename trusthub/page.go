package trusthub

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// CustomerProfile is what the exporter needs of one Customer-Profile, as
// decoded from a list page. A null in the API answer, or a value the
// decoder skipped (see Anomalies), leaves the zero value: "" for strings,
// the zero time.
type CustomerProfile struct {
	SID          string
	FriendlyName string
	PolicySID    string
	Status       string
	ValidUntil   time.Time
	DateUpdated  time.Time
	// ErrorCodes holds each code of the profile's errors list once.
	ErrorCodes []int64
	// Anomalies names the field of each value the decoder skipped because
	// it had a shape the field cannot have: one entry per skipped value, so
	// an errors list with two odd items gives FieldErrors twice. Empty for
	// a well-formed profile.
	Anomalies []Field
}

// Field is a field of a profile that the decoder reads and may skip.
type Field uint8

// The fields the decoder reads, in the order of Fields.
const (
	FieldSID Field = iota
	FieldFriendlyName
	FieldPolicySID
	FieldStatus
	FieldValidUntil
	FieldDateUpdated
	FieldErrors
	// NumFields is the number of fields: Field values are below it, so a
	// [NumFields]T array can be indexed by Field.
	NumFields
)

// Fields lists every Field, for label values that are present from the start.
var Fields = []Field{FieldSID, FieldFriendlyName, FieldPolicySID, FieldStatus, FieldValidUntil, FieldDateUpdated, FieldErrors}

var fieldNames = [NumFields]string{"sid", "friendly_name", "policy_sid", "status", "valid_until", "date_updated", "errors"}

// String is the field's JSON key, which is also its label value.
func (f Field) String() string {
	if f < NumFields {
		return fieldNames[f]
	}
	return "field(" + strconv.Itoa(int(f)) + ")"
}

// MaxErrorCode bounds an error code. Twilio's codes have five digits; the
// bound leaves them room to grow while keeping numbers like 1e300, which
// are no codes, out of the code label.
const MaxErrorCode = math.MaxInt32

// wireProfile mirrors the JSON of one result. Fields the exporter never
// exports (email, status_callback, links) are left out, so they are skipped
// by the decoder instead of being allocated.
//
// Each field's type accepts any JSON value and never fails, so that one odd
// value costs that value, not the page: Twilio documents errors only as "an
// array" and any field may be null. The rule per field:
//   - sid, friendly_name, policy_sid, status: a string, or null. Any other
//     type is skipped as if it were null, with an anomaly. So a status of 5
//     counts the profile as unknown, and a profile whose sid is skipped is
//     counted but gets no per-profile series, as one with a null sid.
//   - valid_until, date_updated: an RFC 3339 string, or null. Another type
//     or a string that does not parse is skipped as if null, with an
//     anomaly: the profile then neither expires nor counts as expiring.
//   - errors: a list, or null. Another type is skipped as an empty list,
//     with one anomaly. Each item gives a code (see errorCode) or is
//     skipped with one anomaly.
//
// A duplicate key counts its last value, as encoding/json does.
type wireProfile struct {
	SID          wireString `json:"sid"`
	FriendlyName wireString `json:"friendly_name"`
	PolicySID    wireString `json:"policy_sid"`
	Status       wireString `json:"status"`
	ValidUntil   wireTime   `json:"valid_until"`
	DateUpdated  wireTime   `json:"date_updated"`
	Errors       wireErrors `json:"errors"`
}

// reset empties w for the next result, keeping the codes' buffer.
func (w *wireProfile) reset() {
	codes := w.Errors.codes[:0]
	*w = wireProfile{}
	w.Errors.codes = codes
}

// anomalies appends to dst the field of each value skipped in w.
func (w *wireProfile) anomalies(dst []Field) []Field {
	for _, f := range [...]struct {
		odd   bool
		field Field
	}{
		{w.SID.odd, FieldSID}, {w.FriendlyName.odd, FieldFriendlyName}, {w.PolicySID.odd, FieldPolicySID},
		{w.Status.odd, FieldStatus}, {w.ValidUntil.odd, FieldValidUntil}, {w.DateUpdated.odd, FieldDateUpdated},
	} {
		if f.odd {
			dst = append(dst, f.field)
		}
	}
	for range w.Errors.odd {
		dst = append(dst, FieldErrors)
	}
	return dst
}

// wireString is a string field: odd when the value was neither a string nor
// null.
type wireString struct {
	s   string
	odd bool
}

func (w *wireString) UnmarshalJSON(b []byte) error {
	*w = wireString{}
	switch {
	case len(b) == 0:
		w.odd = true
	case b[0] == 'n': // null; the decoder has checked the literal
	case b[0] == '"':
		s, ok := unquote(b)
		w.s, w.odd = s, !ok
	default:
		w.odd = true
	}
	return nil
}

// unquote decodes a JSON string literal that the decoder has already
// checked. Names and sids rarely hold escapes, so those without escapes are
// copied straight, as encoding/json itself does.
func unquote(b []byte) (string, bool) {
	if len(b) < 2 {
		return "", false
	}
	inner := b[1 : len(b)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner), true
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return "", false
	}
	return s, true
}

// wireTime is a date field: odd when the value was neither an RFC 3339
// string nor null.
type wireTime struct {
	t   time.Time
	odd bool
}

func (w *wireTime) UnmarshalJSON(b []byte) error {
	*w = wireTime{}
	if string(b) == "null" {
		return nil
	}
	if err := w.t.UnmarshalJSON(b); err != nil {
		w.t, w.odd = time.Time{}, true
	}
	return nil
}

// wireErrors is the errors list: the codes of its usable items, in order
// and possibly repeated, and how many values were skipped.
type wireErrors struct {
	codes []int64
	odd   int
}

func (w *wireErrors) UnmarshalJSON(b []byte) error {
	w.codes, w.odd = w.codes[:0], 0
	switch {
	case string(b) == "null":
		return nil
	case len(b) == 0 || b[0] != '[':
		w.odd = 1
		return nil
	}
	eachElement(b, func(_, item []byte) {
		if c, ok := errorCode(item); ok {
			w.codes = append(w.codes, c)
		} else {
			w.odd++
		}
	})
	return nil
}

// errorCode reads one item of an errors list. Twilio's own examples show
// {"code": 18601}; the Messaging API writes {"error_code": 30701}; and the
// list is documented only as "an array", so a bare code is taken as well.
// An item is a code (see codeValue) or an object whose "code" or
// "error_code" (tried in that order; the keys as written, not folded) is
// one. Anything else (null, a boolean, a list, an object with neither key
// usable) is no code.
func errorCode(item []byte) (int64, bool) {
	if len(item) == 0 || item[0] != '{' {
		return codeValue(item)
	}
	var code, errorCode []byte
	eachElement(item, func(key, v []byte) {
		// A repeated key counts its last value, as in encoding/json.
		switch string(key) {
		case `"code"`:
			code = v
		case `"error_code"`:
			errorCode = v
		}
	})
	if c, ok := codeValue(code); ok {
		return c, true
	}
	return codeValue(errorCode)
}

// codeValue reads a code from a JSON number that is a whole number (18601,
// also written 1.8601e4) or from a string of decimal digits ("18601"), in
// 1..MaxErrorCode. A fraction, a negative number, zero, a number out of
// range or any other string is no code.
func codeValue(raw []byte) (int64, bool) {
	if len(raw) == 0 {
		return 0, false
	}
	switch c := raw[0]; {
	case c == '"':
		if len(raw) < 2 {
			return 0, false
		}
		digits := raw[1 : len(raw)-1]
		if bytes.IndexByte(digits, '\\') >= 0 {
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return 0, false
			}
			digits = []byte(s)
		}
		return decimalCode(digits)
	case c >= '0' && c <= '9':
		if n, ok := decimalCode(raw); ok {
			return n, true
		}
		fallthrough
	case c == '-':
		// A fraction or an exponent: the decoder has checked that raw is a
		// JSON number, which ParseFloat reads exactly for every whole
		// number in range.
		f, err := strconv.ParseFloat(string(raw), 64)
		if err != nil || f != math.Trunc(f) || f < 1 || f > MaxErrorCode {
			return 0, false
		}
		return int64(f), true
	}
	return 0, false
}

// decimalCode reads a code written in decimal digits only.
func decimalCode(digits []byte) (int64, bool) {
	if len(digits) == 0 {
		return 0, false
	}
	var n int64
	for _, d := range digits {
		if d < '0' || d > '9' {
			return 0, false
		}
		n = n*10 + int64(d-'0')
		if n > MaxErrorCode {
			return 0, false
		}
	}
	return n, n >= 1
}

// eachElement calls fn with each element of the JSON list or object b:
// (nil, value) for a list, (key, value) for an object, the key quoted as
// written. b must be a value that encoding/json has already checked, as
// what it hands an UnmarshalJSON method is; so this walks it without
// checking it again, and without the allocations of a second decoding.
func eachElement(b []byte, fn func(key, value []byte)) {
	object := b[0] == '{'
	i := 1
	for {
		i = skipSpace(b, i)
		if i >= len(b) || b[i] == ']' || b[i] == '}' {
			return
		}
		// Every step below moves on by at least one byte, so that even
		// input that was not checked cannot make this loop forever.
		var key []byte
		if object {
			n := valueLen(b[i:])
			if n == 0 {
				return
			}
			key = b[i : i+n]
			i = skipSpace(b, i+n)
			if i >= len(b) || b[i] != ':' {
				return
			}
			i = skipSpace(b, i+1)
			if i >= len(b) {
				return
			}
		}
		n := valueLen(b[i:])
		if n == 0 {
			return
		}
		fn(key, b[i:i+n])
		i = skipSpace(b, i+n)
		if i < len(b) && b[i] == ',' {
			i++
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// valueLen is the length of the checked JSON value at the start of b.
func valueLen(b []byte) int {
	if len(b) == 0 {
		return 0
	}
	switch b[0] {
	case '"':
		return stringLen(b)
	case '{', '[':
		depth := 0
		for i := 0; i < len(b); i++ {
			switch b[i] {
			case '"':
				i += stringLen(b[i:]) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return len(b)
	}
	// A number, true, false or null: up to the next delimiter.
	i := 0
	for i < len(b) && !isDelim(b[i]) {
		i++
	}
	return i
}

func isDelim(c byte) bool {
	switch c {
	case ',', ']', '}', ' ', '\t', '\n', '\r':
		return true
	}
	return false
}

// stringLen is the length of the checked JSON string at the start of b,
// quotes included.
func stringLen(b []byte) int {
	for i := 1; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// Meta is the paging part of a list page.
type Meta struct {
	NextPageURL string `json:"next_page_url"`
	Page        int    `json:"page"`
	PageSize    int    `json:"page_size"`
}

// DecodePage reads one list page from r, calling fn for each profile as it
// is decoded, so that a page is never held in memory whole. fn must not keep
// the *CustomerProfile, its ErrorCodes or its Anomalies: all are reused for the next
// profile.
//
// It fails on anything that is not a page: a body that is not a JSON object
// or is cut short, a results that is not a list, a result that is not an
// object, a missing or malformed meta. Within a profile, a value of the
// wrong shape is skipped and named in CustomerProfile.Anomalies instead (see
// wireProfile): one odd field must not hide every other profile.
func DecodePage(r io.Reader, fn func(*CustomerProfile) error) (Meta, error) {
	var meta Meta
	dec := json.NewDecoder(r)
	if err := expectDelim(dec, '{', "the page"); err != nil {
		return meta, err
	}
	var sawMeta, sawResults bool
	var p CustomerProfile
	var wire wireProfile
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
				// Decoding through a pointer to the reused wire value
				// tells a null result (the pointer set to nil) from an
				// object without allocating one per result.
				wire.reset()
				wp := &wire
				if err := dec.Decode(&wp); err != nil {
					return meta, fmt.Errorf("decoding results[%d]: %w", i, err)
				}
				if wp == nil {
					return meta, fmt.Errorf("decoding results[%d]: null instead of a profile", i)
				}
				p = CustomerProfile{
					SID:          wire.SID.s,
					FriendlyName: wire.FriendlyName.s,
					PolicySID:    wire.PolicySID.s,
					Status:       wire.Status.s,
					ValidUntil:   wire.ValidUntil.t,
					DateUpdated:  wire.DateUpdated.t,
					ErrorCodes:   uniqueCodes(p.ErrorCodes[:0], wire.Errors.codes),
					Anomalies:    wire.anomalies(p.Anomalies[:0]),
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

// uniqueCodes appends each code once, so a profile counts once per code
// however often Twilio repeats it. The lists are a handful long, so a
// linear scan beats a map.
func uniqueCodes(dst, codes []int64) []int64 {
	for _, c := range codes {
		if !slices.Contains(dst, c) {
			dst = append(dst, c)
		}
	}
	return dst
}
