package exposition

import (
	"bytes"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// mode is how an Encoder writes the families it is given.
type mode uint8

const (
	// text appends the Prometheus text format (0.0.4; 1.0.0 reads the
	// same, as every name here is a legacy one).
	text mode = iota
	// openMetrics appends OpenMetrics 1.0.0 (0.0.1 reads the same).
	openMetrics
	// library builds metric families for expfmt's encoder: protobuf,
	// and any format without a writer here.
	library
	// gather builds metric families and keeps them (Gather).
	gather
)

func modeOf(f expfmt.Format) mode {
	switch f.FormatType() {
	case expfmt.TypeTextPlain:
		return text
	case expfmt.TypeOpenMetrics:
		if v := f.Version(); v == expfmt.OpenMetricsVersion_1_0_0 || v == expfmt.OpenMetricsVersion_0_0_1 {
			return openMetrics
		}
	}
	return library
}

// flushAt is how much an Encoder gathers before it writes it out, and
// bufferSize its buffer's capacity: room for a series past flushAt.
const (
	flushAt    = 32 << 10
	bufferSize = flushAt + 4<<10
)

// Encoder writes one exposition: families already gathered (Encode), then
// families series by series (Family, Add). Its methods keep the first
// write error, which Close returns; after one they do nothing.
type Encoder struct {
	mode mode
	// w receives the bytes, flushAt at a time; nil when gathering, which
	// writes none.
	w   io.Writer
	b   []byte
	err error
	// lib encodes the gathered families, and in library mode every family.
	lib expfmt.Encoder

	f *Family
	// header says whether f's HELP and TYPE lines are written: only once
	// it has a series, as a family without series is not written at all.
	header bool

	pb       *builder
	gathered []*dto.MetricFamily
	// pooled is where b came from, when from buffers.
	pooled *[]byte
}

// buffers are Encoders' buffers, reused: a /probe answer is smaller than
// one, and 10,000 probes a minute each allocating its own made most of a
// sharded replica's garbage, and so its heap's overshoot.
var buffers = sync.Pool{New: func() any {
	b := make([]byte, 0, bufferSize)
	return &b
}}

// pooledEncoder returns an Encoder in mode m writing to w, its buffer
// from buffers: Close returns it.
func pooledEncoder(m mode, w io.Writer) *Encoder {
	bp := buffers.Get().(*[]byte)
	return &Encoder{mode: m, w: w, b: (*bp)[:0], pooled: bp}
}

// NewEncoder returns an Encoder writing format to w. Close returns its
// buffer for reuse: the Encoder is not to be used after.
func NewEncoder(w io.Writer, format expfmt.Format) *Encoder {
	e := pooledEncoder(modeOf(format), w)
	// expfmt writes a family in many small pieces: through e, they are
	// gathered in b like the rest.
	e.lib = expfmt.NewEncoder(e, format)
	if e.mode == library {
		e.pb = &builder{}
	}
	return e
}

// Write appends p to the exposition, for expfmt's encoder.
func (e *Encoder) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	e.b = append(e.b, p...)
	e.maybeFlush()
	return len(p), e.err
}

// Encode writes gathered families, through expfmt.
func (e *Encoder) Encode(mfs ...*dto.MetricFamily) {
	e.endFamily()
	for _, mf := range mfs {
		if e.err != nil {
			return
		}
		if e.mode == gather {
			e.gathered = append(e.gathered, mf)
			continue
		}
		if err := e.lib.Encode(mf); err != nil && e.err == nil {
			e.err = err
		}
	}
}

// Family begins family f: the series added next are its. A family is
// written whole before the next begins, and once per exposition.
func (e *Encoder) Family(f *Family) {
	e.endFamily()
	e.f, e.header = f, false
}

// Add adds a series of the current family: its value, and its labels as
// name, value pairs in label-name order (the order client_golang sorts
// them in). The names must be legacy label names.
func (e *Encoder) Add(v float64, labels ...string) {
	if e.err != nil {
		return
	}
	switch e.mode {
	case text, openMetrics:
		om := e.mode == openMetrics
		if !e.header {
			if om {
				e.b = append(e.b, e.f.openMetricsHeader...)
			} else {
				e.b = append(e.b, e.f.textHeader...)
			}
			e.header = true
		}
		e.b = appendSeries(e.b, e.f.name, labels)
		if om {
			e.b = appendOpenMetricsValue(e.b, v)
		} else {
			e.b = appendValue(e.b, v)
		}
		e.maybeFlush()
	default:
		e.pb.add(e.f, v, labels)
	}
}

// endFamily hands the family being built to expfmt, or keeps it.
func (e *Encoder) endFamily() {
	if e.pb == nil || e.pb.mf == nil {
		return
	}
	mf := e.pb.mf
	e.pb.mf = nil
	if e.mode == gather {
		e.gathered = append(e.gathered, mf)
		return
	}
	if e.err == nil {
		if err := e.lib.Encode(mf); err != nil {
			e.err = err
		}
	}
}

// Direct says whether the Encoder writes bytes itself, which a Cache may
// keep: in the two text formats.
func (e *Encoder) Direct() bool { return e.mode == text || e.mode == openMetrics }

// writeDeflated writes a kept block, rendered in e's format: spliced into
// a gzipped answer as it is, inflated into any other.
func (e *Encoder) writeDeflated(d *deflated) {
	if e.err != nil {
		return
	}
	if g, ok := e.w.(*gzipWriter); ok {
		e.flush()
		if e.err == nil {
			e.err = g.writeDeflated(d)
		}
		return
	}
	rc := d.reader()
	defer func() { _ = rc.Close() }() // an inflater's Close frees, and cannot fail
	e.flush()
	if e.err == nil {
		_, e.err = io.Copy(e.w, rc)
	}
}

func (e *Encoder) maybeFlush() {
	if e.w != nil && len(e.b) >= flushAt {
		e.flush()
	}
}

func (e *Encoder) flush() {
	if e.err == nil && len(e.b) > 0 {
		_, e.err = e.w.Write(e.b)
	}
	e.b = e.b[:0]
}

// Close ends the exposition (OpenMetrics' "# EOF") and writes out what is
// left; it returns the first error.
func (e *Encoder) Close() error {
	e.endFamily()
	if c, ok := e.lib.(expfmt.Closer); ok && e.err == nil && e.mode != gather {
		if err := c.Close(); err != nil {
			e.err = err
		}
	}
	if e.w != nil {
		e.flush()
	}
	if e.pooled != nil && cap(e.b) <= 2*bufferSize {
		*e.pooled = e.b[:0]
		buffers.Put(e.pooled)
	}
	e.pooled, e.b = nil, nil
	return e.err
}

// Gather returns what write gives an Encoder as metric families, each
// family's series in the order a client_golang registry sorts them, the
// families by name: what a registry would gather from the same series.
func Gather(write func(*Encoder)) []*dto.MetricFamily {
	e := &Encoder{mode: gather, pb: &builder{}}
	write(e)
	e.endFamily()
	for _, mf := range e.gathered {
		slices.SortStableFunc(mf.Metric, compareLabels)
	}
	slices.SortStableFunc(e.gathered, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })
	return e.gathered
}

// compareLabels orders two series of a family by their label values, in
// label order, as a registry does.
func compareLabels(a, b *dto.Metric) int {
	for k := range min(len(a.Label), len(b.Label)) {
		if c := strings.Compare(a.Label[k].GetValue(), b.Label[k].GetValue()); c != 0 {
			return c
		}
	}
	return len(a.Label) - len(b.Label)
}

// builder builds metric families from slabs: a few allocations per
// thousand series rather than several per series.
type builder struct {
	mf       *dto.MetricFamily
	metrics  slab[dto.Metric]
	gauges   slab[dto.Gauge]
	counters slab[dto.Counter]
	pairs    slab[dto.LabelPair]
	ptrs     []*dto.LabelPair
	strs     slab[string]
	names    []*string
	floats   slab[float64]
}

func (k *builder) add(f *Family, v float64, labels []string) {
	if k.mf == nil {
		// Copies: the family's declaration is not the encoder's to change.
		name, help := f.name, f.help
		typ := dto.MetricType_GAUGE
		if f.typ == Counter {
			typ = dto.MetricType_COUNTER
		}
		k.mf = &dto.MetricFamily{Name: &name, Help: &help, Type: typ.Enum()}
	}
	n := len(labels) / 2
	if len(k.ptrs) < n {
		k.ptrs = make([]*dto.LabelPair, max(slabSize, n))
	}
	m, fv := k.metrics.next(), k.floats.next()
	*fv = v
	if f.typ == Counter {
		c := k.counters.next()
		c.Value = fv
		m.Counter = c
	} else {
		g := k.gauges.next()
		g.Value = fv
		m.Gauge = g
	}
	m.Label, k.ptrs = k.ptrs[:n:n], k.ptrs[n:]
	var prev []*dto.LabelPair
	if l := len(k.mf.Metric); l > 0 {
		prev = k.mf.Metric[l-1].Label
	}
	for i := range n {
		name, value := labels[2*i], labels[2*i+1]
		// A label the previous series has too (the account, the sid of
		// an object's statuses) shares its pair: messages are only read.
		if i < len(prev) && prev[i].GetName() == name && prev[i].GetValue() == value {
			m.Label[i] = prev[i]
			continue
		}
		s := k.strs.next()
		*s = value
		lp := k.pairs.next()
		lp.Name, lp.Value = k.labelName(name), s
		m.Label[i] = lp
	}
	k.mf.Metric = append(k.mf.Metric, m)
}

// labelName returns the one copy of a label name that every series
// shares: there are a handful of names and many series.
func (k *builder) labelName(name string) *string {
	for _, p := range k.names {
		if *p == name {
			return p
		}
	}
	p := new(string) // not &name: that would move every call's name to the heap
	*p = name
	k.names = append(k.names, p)
	return p
}

const slabSize = 1024

// slab hands out values of T from arrays allocated slabSize at a time.
type slab[T any] struct{ free []T }

func (s *slab[T]) next() *T {
	if len(s.free) == 0 {
		s.free = make([]T, slabSize)
	}
	p := &s.free[0]
	s.free = s.free[1:]
	return p
}

// appendHeader appends a family's HELP and TYPE lines. OpenMetrics
// escapes a double quote in HELP as well, where the Prometheus text format
// leaves it, and names a counter family without its _total.
func appendHeader(b []byte, name, help string, t Type, openMetrics bool) []byte {
	typ := " gauge\n"
	if t == Counter {
		typ = " counter\n"
		if openMetrics {
			name = strings.TrimSuffix(name, "_total")
		}
	}
	b = append(b, "# HELP "...)
	b = append(b, name...)
	b = append(b, ' ')
	b = appendEscaped(b, help, openMetrics)
	b = append(b, "\n# TYPE "...)
	b = append(b, name...)
	return append(b, typ...)
}

// appendSeries appends a series name and its labels, given as name, value
// pairs in label-name order. Both text formats write it the same way.
func appendSeries(b []byte, name string, labels []string) []byte {
	b = append(b, name...)
	if len(labels) == 0 {
		return b
	}
	b = append(b, '{')
	for i := 0; i+1 < len(labels); i += 2 {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, labels[i]...)
		b = append(b, `="`...)
		b = appendEscaped(b, labels[i+1], true)
		b = append(b, '"')
	}
	return append(b, '}')
}

// appendValue appends " value\n" as the Prometheus text format writes
// floats.
func appendValue(b []byte, v float64) []byte {
	b = append(b, ' ')
	switch {
	case math.IsNaN(v):
		b = append(b, "NaN"...)
	case math.IsInf(v, 1):
		b = append(b, "+Inf"...)
	case math.IsInf(v, -1):
		b = append(b, "-Inf"...)
	case v == 0:
		b = append(b, '0') // -0 too, as expfmt writes it
	default:
		b = strconv.AppendFloat(b, v, 'g', -1, 64)
	}
	return append(b, '\n')
}

// appendOpenMetricsValue appends " value\n" as OpenMetrics writes floats:
// a whole number as a float ("1.0"), as expfmt does.
func appendOpenMetricsValue(b []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return appendValue(b, v)
	}
	if v == 0 {
		return append(b, " 0.0\n"...) // -0 too, as expfmt writes it
	}
	b = append(b, ' ')
	n := len(b)
	b = strconv.AppendFloat(b, v, 'g', -1, 64)
	if !bytes.ContainsAny(b[n:], ".e") {
		b = append(b, ".0"...)
	}
	return append(b, '\n')
}

// appendEscaped escapes as the text formats do: a backslash and a newline
// always, a double quote when quote is set.
// needsEscape is strings.ContainsAny(s, "\\\n\""), without building
// the set on every call: it runs for every label value of every series.
func needsEscape(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\\' || c == '\n' || c == '"' {
			return true
		}
	}
	return false
}

func appendEscaped(b []byte, s string, quote bool) []byte {
	if !needsEscape(s) {
		return append(b, s...)
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			b = append(b, `\\`...)
		case c == '\n':
			b = append(b, `\n`...)
		case c == '"' && quote:
			b = append(b, `\"`...)
		default:
			b = append(b, c)
		}
	}
	return b
}
