package exposition

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io"
	"sync"

	"github.com/klauspost/compress/flate"
)

// A gzipped answer is mostly blocks kept between scrapes (Cache): tens of
// MB of text at 1,000 subaccounts, the same bytes scrape after scrape.
// Gzipping them again on every scrape cost more than everything else the
// scrape did, and keeping them as text cost more memory than everything
// else the exporter kept. So a block is kept deflated, and a gzipped
// answer is spliced from deflate streams (RFC 1951 §3.2.3): what the
// scrape writes itself is compressed as it goes, each kept block is
// copied in as it is, each part ending with a sync flush, which ends on a
// byte boundary, and the gzip trailer's CRC-32 is the parts' CRCs
// combined. Each kept block is compressed on its own, with no history
// before it: it costs a few per cent of the wire size, and nothing per
// scrape. A client that does not accept gzip gets the block inflated.

// level is the compression level of every answer and kept block: the
// fastest, as a scrape of 35 MB at level 1 already compresses it 23 times.
const level = flate.BestSpeed

// deflated is a block kept compressed: raw DEFLATE ending with a sync
// flush (no final block), and the CRC-32 (IEEE) and length of its bytes.
type deflated struct {
	b   []byte
	crc uint32
	n   int64
}

// finalBlock is an empty stored block with BFINAL set: what ends a
// deflate stream whose last block ended with a sync flush.
var finalBlock = []byte{0x01, 0x00, 0x00, 0xff, 0xff}

// flateWriters reuse compressors: each holds about a megabyte of state.
// klauspost's flate at its fastest level compresses an exposition in
// about half the time of the standard library's.
var flateWriters = sync.Pool{New: func() any {
	fw, _ := flate.NewWriter(io.Discard, level) // a valid level: no error
	return fw
}}

// deflateBlock compresses what write writes to w into a kept block.
func deflateBlock(write func(io.Writer) error) (*deflated, error) {
	var buf bytes.Buffer
	fw := flateWriters.Get().(*flate.Writer)
	defer func() {
		// A pooled writer must not hold on to buf: tens of MB.
		fw.Reset(io.Discard)
		flateWriters.Put(fw)
	}()
	fw.Reset(&buf)
	cw := &crcWriter{w: fw}
	if err := write(cw); err != nil {
		return nil, err
	}
	if err := fw.Flush(); err != nil {
		return nil, err
	}
	return &deflated{b: bytes.Clone(buf.Bytes()), crc: cw.crc, n: cw.n}, nil
}

// reader returns the block's bytes, inflated.
func (d *deflated) reader() io.ReadCloser {
	return flate.NewReader(io.MultiReader(bytes.NewReader(d.b), bytes.NewReader(finalBlock)))
}

// crcWriter counts and checksums what goes through it.
type crcWriter struct {
	w   io.Writer
	crc uint32
	n   int64
}

func (c *crcWriter) Write(p []byte) (int, error) {
	c.crc = crc32.Update(c.crc, crc32.IEEETable, p)
	c.n += int64(len(p))
	return c.w.Write(p)
}

// gzipWriter writes one gzip member (RFC 1952) to w: what is written to
// it, compressed, and kept blocks spliced in as they are.
type gzipWriter struct {
	w      io.Writer
	fw     *flate.Writer
	crc    uint32
	n      int64
	header bool
	err    error
}

func newGzipWriter(w io.Writer) *gzipWriter {
	fw := flateWriters.Get().(*flate.Writer)
	fw.Reset(w)
	return &gzipWriter{w: w, fw: fw}
}

// gzipHeader is the member's header: no name, no time, the fastest
// compression (XFL 4), an unknown OS, as klauspost's and Go's writers at
// that level write it.
var gzipHeader = []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 4, 255}

func (g *gzipWriter) writeHeader() {
	if !g.header && g.err == nil {
		g.header = true
		_, g.err = g.w.Write(gzipHeader)
	}
}

func (g *gzipWriter) Write(p []byte) (int, error) {
	g.writeHeader()
	if g.err != nil {
		return 0, g.err
	}
	g.crc = crc32.Update(g.crc, crc32.IEEETable, p)
	g.n += int64(len(p))
	var n int
	n, g.err = g.fw.Write(p)
	return n, g.err
}

// writeDeflated splices a kept block in: what was written before it is
// flushed to a byte boundary, the block copied, and compression goes on
// after it with no history, since back-references must not reach into
// bytes the compressor has not seen.
func (g *gzipWriter) writeDeflated(d *deflated) error {
	g.writeHeader()
	if g.err == nil {
		g.err = g.fw.Flush()
	}
	if g.err == nil {
		_, g.err = g.w.Write(d.b)
	}
	if g.err != nil {
		return g.err
	}
	g.fw.Reset(g.w)
	g.crc = crc32Combine(g.crc, d.crc, d.n)
	g.n += d.n
	return nil
}

// Close ends the member: the final block and the trailer. It returns the
// compressor to the pool; g is not to be used after.
func (g *gzipWriter) Close() error {
	g.writeHeader()
	if g.err == nil {
		g.err = g.fw.Close()
	}
	if g.err == nil {
		var t [8]byte
		binary.LittleEndian.PutUint32(t[:4], g.crc)
		binary.LittleEndian.PutUint32(t[4:], uint32(g.n&0xffffffff)) // ISIZE is the length modulo 2^32
		_, g.err = g.w.Write(t[:])
	}
	g.fw.Reset(io.Discard)
	flateWriters.Put(g.fw)
	g.fw = nil
	return g.err
}

// crc32Combine returns the CRC-32 (IEEE) of a then b from a's CRC, b's
// and b's length, as zlib's crc32_combine: a's CRC is carried over n
// zero bytes by multiplying it by x^(8n) modulo the polynomial, then
// added to b's. The standard library has no such function.
func crc32Combine(crcA, crcB uint32, n int64) uint32 {
	return multModP(x2nModP(n, 3), crcA) ^ crcB
}

// x2nTable[k] is x^(2^k) modulo the polynomial, in the reflected bit
// order of crc32.IEEE.
var x2nTable = func() (t [32]uint32) {
	p := uint32(1) << 30 // x^1
	t[0] = p
	for k := 1; k < 32; k++ {
		p = multModP(p, p)
		t[k] = p
	}
	return t
}()

// multModP multiplies a and b modulo the polynomial (reflected).
func multModP(a, b uint32) uint32 {
	m, p := uint32(1)<<31, uint32(0)
	for {
		if a&m != 0 {
			p ^= b
			if a&(m-1) == 0 {
				return p
			}
		}
		m >>= 1
		if b&1 != 0 {
			b = b>>1 ^ crc32.IEEE
		} else {
			b >>= 1
		}
	}
}

// x2nModP returns x^(n·2^k) modulo the polynomial.
func x2nModP(n int64, k uint) uint32 {
	p := uint32(1) << 31 // x^0
	for ; n != 0; n >>= 1 {
		if n&1 != 0 {
			p = multModP(x2nTable[k&31], p)
		}
		k++
	}
	return p
}
