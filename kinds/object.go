package kinds

// Object is what the exporter needs of one listed object (a
// Customer-Profile, a Trust Product, ...), as decoded from a list page:
// each field's value indexed by Field, read by the field's type. A
// null in the API answer, a field the kind does not have, or a value the
// decoder skipped (see Anomalies), leaves the field empty: "" for a
// string, absent from Has for a date or a number.
type Object struct {
	// Strings are the String fields' values.
	Strings [NumFields]string
	// Numbers are the Time fields' values as Unix seconds and the Integer
	// fields' values, each valid only when in Has.
	Numbers [NumFields]float64
	Has     FieldSet
	// ErrorCodes holds each code of the object's errors once.
	ErrorCodes []int64
	// Anomalies names the field of each value the decoder skipped because
	// it had a shape the field cannot have: one entry per skipped value, so
	// an errors list with two odd items gives FieldErrors twice. Empty for
	// a well-formed object.
	Anomalies []Field
}

// SID is the object's sid; "" when it had none.
func (o *Object) SID() string { return o.Strings[FieldSID] }

// Value is a date's or a number's value, and whether the object has one.
func (o *Object) Value(f Field) (float64, bool) { return o.Numbers[f], o.Has.Has(f) }
