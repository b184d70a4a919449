// Package objtest writes decoded objects for tests, as literals would if
// an object's fields were struct fields rather than arrays indexed by
// field.
package objtest

import (
	"fmt"
	"time"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
)

// New returns an object from key, value pairs. A key is a field's JSON key
// (kinds.Field.String) with a value of the field's type: a string for a
// String field, a time.Time for a Time field, an int for an Integer
// field. "errors" takes the []int64 of ErrorCodes and "anomalies" the
// []kinds.Field of Anomalies. A key or a value of another type panics: it
// is a mistake in the test.
func New(pairs ...any) kinds.Object {
	var o kinds.Object
	Set(&o, pairs...)
	return o
}

// Set sets fields of o as New does.
func Set(o *kinds.Object, pairs ...any) {
	for i := 0; i+1 < len(pairs); i += 2 {
		key, v := pairs[i].(string), pairs[i+1]
		switch key {
		case "errors":
			o.ErrorCodes = v.([]int64)
			continue
		case "anomalies":
			o.Anomalies = v.([]kinds.Field)
			continue
		}
		f := field(key)
		switch v := v.(type) {
		case string:
			o.Strings[f] = v
		case time.Time:
			if !v.IsZero() {
				o.Numbers[f] = float64(v.Unix()) + float64(v.Nanosecond())/1e9
				o.Has.Add(f)
			}
		case int:
			o.Numbers[f] = float64(v)
			o.Has.Add(f)
		default:
			panic(fmt.Sprintf("objtest: %s: a %T", key, v))
		}
	}
}

func field(key string) kinds.Field {
	for _, f := range kinds.AllFields {
		if f.String() == key {
			return f
		}
	}
	panic("objtest: no field " + key)
}
