package twilio

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

	"github.com/go-json-experiment/json/jsontext"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
)

// MaxErrorCode bounds an error code. Twilio's codes have five digits; the
// bound leaves them room to grow while keeping numbers like 1e300, which
// are no codes, out of the code label.
const MaxErrorCode = math.MaxInt32

// wireObject holds the fields of one result as they are decoded. Only the
// keys the kind declares are read (see kinds.Kind.Key); every other key
// (email, status_callback, links) is skipped without being allocated.
//
// Each field accepts any JSON value and never fails, so that one odd value
// costs that value, not the page: Twilio documents errors only as "an
// array" and any field may be null. The rule per field type:
//   - String (sid, status, the names and labels): a string, or null. Any
//     other type is skipped as if it were null, with an anomaly. So a
//     status of 5 counts the object as unknown, and an object whose sid is
//     skipped is counted but gets no per-object series, as one with a
//     null sid.
//   - Time (valid_until, edit_expiration, date_created, date_updated): an
//     RFC 3339 string, or null. Another type or a string that does not
//     parse is skipped as if null, with an anomaly: an object whose
//     valid_until is skipped then neither expires nor counts as expiring.
//   - Integer (brand_score): a whole number, or null. Anything else is
//     skipped as if null, with an anomaly.
//   - Codes (errors): a list, or null. Another type is skipped as an empty
//     list, with one anomaly. Each item gives a code (see errorCode) or is
//     skipped with one anomaly. A kind with a single error_code reads it
//     as one such item, null being none.
//
// A key repeated counts its last value, and a key matches a field's key
// case-insensitively when no field's key matches exactly, both as
// encoding/json does for a struct.
type wireObject struct {
	keys *keyTable

	strings [kinds.NumFields]wireString
	numbers [kinds.NumFields]wireNumber
	errors  wireErrors
	// single says the errors are one error_code rather than a list.
	single bool
}

// keyTable is a kind's JSON key of each field; empty for a field it lacks.
type keyTable [kinds.NumFields][]byte

func newKeyTable(k *kinds.Kind) *keyTable {
	var t keyTable
	for _, f := range k.Fields() {
		t[f] = []byte(k.Key(f))
	}
	return &t
}

// field returns the field whose key is rawKey, a checked JSON string as
// written. Keys rarely hold escapes, so those without are compared as they
// stand, without allocating.
func (t *keyTable) field(rawKey []byte) (kinds.Field, bool) {
	if len(rawKey) < 2 {
		return 0, false
	}
	key := rawKey[1 : len(rawKey)-1]
	if bytes.IndexByte(key, '\\') >= 0 {
		s, ok := unquote(rawKey)
		if !ok {
			return 0, false
		}
		key = []byte(s)
	}
	for f, k := range t {
		if len(k) > 0 && bytes.Equal(k, key) {
			return kinds.Field(f), true
		}
	}
	for f, k := range t {
		if len(k) > 0 && bytes.EqualFold(k, key) {
			return kinds.Field(f), true
		}
	}
	return 0, false
}

// reset empties w for the next result, keeping the codes' buffer.
func (w *wireObject) reset() {
	keys, codes, single := w.keys, w.errors.codes[:0], w.single
	*w = wireObject{keys: keys, single: single}
	w.errors.codes = codes
}

// UnmarshalJSON reads one result. encoding/json has checked b, and hands
// it over only when it is not null.
func (w *wireObject) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || b[0] != '{' {
		return fmt.Errorf("%s instead of an object", jsonType(b))
	}
	eachElement(b, func(rawKey, v []byte) {
		f, ok := w.keys.field(rawKey)
		if !ok {
			return
		}
		switch f.Type() {
		case kinds.String:
			w.strings[f].set(v)
		case kinds.Time:
			w.numbers[f].setTime(v)
		case kinds.Integer:
			w.numbers[f].setInteger(v)
		case kinds.Bool:
			w.numbers[f].setBool(v)
		case kinds.Codes:
			if w.single {
				w.errors.setOne(v)
			} else {
				w.errors.set(v)
			}
		}
	})
	return nil
}

// jsonType names the type of a checked JSON value, for a message.
func jsonType(b []byte) string {
	if len(b) == 0 {
		return "nothing"
	}
	switch b[0] {
	case '"':
		return "a string"
	case '[':
		return "a list"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// anomalies appends to dst the field of each value skipped in w, in field
// order.
func (w *wireObject) anomalies(dst []kinds.Field) []kinds.Field {
	for _, f := range kinds.AllFields {
		switch {
		case f.Type() == kinds.Codes:
			for range w.errors.odd {
				dst = append(dst, f)
			}
		case w.strings[f].odd, w.numbers[f].odd:
			dst = append(dst, f)
		}
	}
	return dst
}

// object writes what w decoded into o, reusing o's lists.
func (w *wireObject) object(o *kinds.Object) {
	o.Has = 0
	for f := range kinds.NumFields {
		o.Strings[f], o.Numbers[f] = w.strings[f].s, w.numbers[f].n
		if w.numbers[f].has {
			o.Has.Add(f)
		}
	}
	o.ErrorCodes = uniqueCodes(o.ErrorCodes[:0], w.errors.codes)
	o.Anomalies = w.anomalies(o.Anomalies[:0])
}

// wireString is a string field: odd when the value was neither a string nor
// null.
type wireString struct {
	s   string
	odd bool
}

// set reads the field's value.
func (w *wireString) set(b []byte) {
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

// wireNumber is a date or number field: has when it held one, odd when
// the value was neither one nor null.
type wireNumber struct {
	n        float64
	has, odd bool
}

// setTime reads an RFC 3339 date, as Unix seconds.
func (w *wireNumber) setTime(b []byte) {
	*w = wireNumber{}
	if string(b) == "null" {
		return
	}
	var t time.Time
	if err := t.UnmarshalJSON(b); err != nil {
		w.odd = true
		return
	}
	w.n, w.has = float64(t.Unix())+float64(t.Nanosecond())/1e9, true
}

// setBool reads true or false, as 1 or 0.
func (w *wireNumber) setBool(b []byte) {
	*w = wireNumber{}
	switch string(b) {
	case "null":
	case "true":
		w.n, w.has = 1, true
	case "false":
		w.has = true
	default:
		w.odd = true
	}
}

// setInteger reads a whole number.
func (w *wireNumber) setInteger(b []byte) {
	*w = wireNumber{}
	switch {
	case string(b) == "null":
	case len(b) > 0 && (b[0] == '-' || b[0] >= '0' && b[0] <= '9'):
		// The decoder has checked that b is a JSON number.
		f, err := strconv.ParseFloat(string(b), 64)
		if err != nil || f != math.Trunc(f) || math.Abs(f) > math.MaxInt32 {
			w.odd = true
			return
		}
		w.n, w.has = f, true
	default:
		w.odd = true
	}
}

// wireErrors is the errors list: the codes of its usable items, in order
// and possibly repeated, and how many values were skipped.
type wireErrors struct {
	codes []int64
	odd   int
}

// set reads the field's value.
func (w *wireErrors) set(b []byte) {
	w.codes, w.odd = w.codes[:0], 0
	switch {
	case string(b) == "null":
		return
	case len(b) == 0 || b[0] != '[':
		w.odd = 1
		return
	}
	eachElement(b, func(_, item []byte) {
		if c, ok := errorCode(item); ok {
			w.codes = append(w.codes, c)
		} else {
			w.odd++
		}
	})
}

// setOne reads a single error_code: a code (see errorCode), or null for
// none.
func (w *wireErrors) setOne(b []byte) {
	w.codes, w.odd = w.codes[:0], 0
	if string(b) == "null" {
		return
	}
	if c, ok := errorCode(b); ok {
		w.codes = append(w.codes, c)
	} else {
		w.odd = 1
	}
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

// DecodePage reads one list page of kind k from r, calling fn for each
// object as it is decoded, so that a page is never held in memory whole.
// The list is the page's k.ListKey. fn must not keep the *kinds.Object, its
// Labels, ErrorCodes or Anomalies: all are reused for the next object.
//
// It fails on anything that is not a page: a body that is not a JSON object
// or is cut short, a list that is not a list, a result that is not an
// object, a missing or malformed meta. Within an object, a value of the
// wrong shape is skipped and named in Object.Anomalies instead (see
// wireObject): one odd field must not hide every other object.
func DecodePage(r io.Reader, k *kinds.Kind, fn func(*kinds.Object) error) (Meta, error) {
	return decodePage(r, k, nil, fn)
}

// decodePage is DecodePage, calling onMeta (when not nil) with the meta as
// soon as it is decoded, if it comes before the list as Twilio sends it: the
// caller can then ask for the next page while this one is decoded. A meta
// after the list is not passed on; the page is decoded by then.
func decodePage(r io.Reader, k *kinds.Kind, onMeta func(Meta), fn func(*kinds.Object) error) (Meta, error) {
	var meta Meta
	// jsontext checks each value once as it reads it, where
	// encoding/json's Decoder scans a value to find its end and again to
	// decode it. Invalid UTF-8 and repeated keys are taken, as
	// encoding/json takes them: one odd byte must not cost the page.
	dec := jsontext.NewDecoder(r, jsontext.AllowInvalidUTF8(true), jsontext.AllowDuplicateNames(true))
	if err := expectDelim(dec, '{', "the page"); err != nil {
		return meta, err
	}
	var sawMeta, sawList bool
	var p kinds.Object
	wire := wireObject{keys: newKeyTable(k), single: k.Errors == kinds.ErrorCode}
	for dec.PeekKind() == '"' {
		tok, err := dec.ReadToken()
		if err != nil {
			return meta, fmt.Errorf("decoding page: %w", err)
		}
		switch tok.String() {
		case "meta":
			if err := decodeMeta(dec, &meta); err != nil {
				return meta, err
			}
			sawMeta = true
			if onMeta != nil && !sawList {
				onMeta(meta)
			}
		case k.ListKey:
			if err := expectDelim(dec, '[', k.ListKey); err != nil {
				return meta, err
			}
			for i := 0; dec.PeekKind() != ']'; i++ {
				raw, err := dec.ReadValue()
				if err != nil {
					return meta, fmt.Errorf("decoding %s[%d]: %w", k.ListKey, i, err)
				}
				if raw.Kind() == 'n' {
					return meta, fmt.Errorf("decoding %s[%d]: null instead of an object", k.ListKey, i)
				}
				wire.reset()
				if err := wire.UnmarshalJSON(raw); err != nil {
					return meta, fmt.Errorf("decoding %s[%d]: %w", k.ListKey, i, err)
				}
				wire.object(&p)
				if err := fn(&p); err != nil {
					return meta, err
				}
			}
			if _, err := dec.ReadToken(); err != nil { // the closing ]
				return meta, fmt.Errorf("decoding %s: %w", k.ListKey, err)
			}
			sawList = true
		default:
			if err := dec.SkipValue(); err != nil {
				return meta, fmt.Errorf("decoding page: %w", err)
			}
		}
	}
	if _, err := dec.ReadToken(); err != nil { // the closing }
		return meta, fmt.Errorf("decoding page: %w", err)
	}
	switch {
	case !sawMeta:
		return meta, errors.New("decoding page: no meta object")
	case !sawList:
		return meta, fmt.Errorf("decoding page: no %s list", k.ListKey)
	}
	return meta, nil
}

func decodeMeta(dec *jsontext.Decoder, meta *Meta) error {
	raw, err := dec.ReadValue()
	if err != nil {
		return fmt.Errorf("decoding meta: %w", err)
	}
	if raw.Kind() != '{' {
		return errors.New("decoding meta: not an object")
	}
	if err := json.Unmarshal(raw, meta); err != nil {
		return fmt.Errorf("decoding meta: %w", err)
	}
	return nil
}

func expectDelim(dec *jsontext.Decoder, want jsontext.Kind, what string) error {
	tok, err := dec.ReadToken()
	if err != nil {
		return fmt.Errorf("decoding %s: %w", what, err)
	}
	if tok.Kind() != want {
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
