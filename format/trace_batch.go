package format

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// Columns selects trace columns for NextBatchOf, one bit per column in
// schema order (ColumnBit gives the bit of a column by name).
type Columns uint32

// AllColumns selects every column.
var AllColumns = Columns(1)<<len(traceColumns) - 1

// ColumnBit returns the bit of the named column, 0 for an unknown name.
func ColumnBit(name string) Columns {
	for i, c := range traceColumns {
		if c.name == name {
			return 1 << i
		}
	}
	return 0
}

// NextBatch reads the rest of the current record batch (up to BatchRows
// rows) into evs, reusing its storage, and returns them: the same rows Next
// would return one by one, with the same errors (io.EOF at the end,
// ErrTruncated after the last complete batch of a trace cut short), but
// column by column, several times faster. Strings are shared between rows
// (and with earlier batches) the way Next shares them.
func (r *Reader) NextBatch(evs []Event) ([]Event, error) { return r.NextBatchOf(evs, AllColumns) }

// NextBatchOf is NextBatch filling only the selected columns; the fields of
// the others are left as they are in evs (zero in new storage). A reader
// that needs fewer columns (pain-track needs no raw addresses or payloads)
// saves the work of the rest: their buffers are never decompressed.
func (r *Reader) NextBatchOf(evs []Event, cols Columns) ([]Event, error) {
	return r.NextRowsOf(evs, cols, BatchRows)
}

// NextRowsOf is NextBatchOf reading at most limit rows (at least one) of the
// current record batch. A caller that handles rows as they come reads a
// few hundred at a time, which stay in the processor's cache from the
// reader's hands to the caller's.
func (r *Reader) NextRowsOf(evs []Event, cols Columns, limit int) (_ []Event, err error) {
	for r.err == nil && r.row >= r.b.n {
		r.nextBatch()
	}
	if r.err != nil {
		return evs[:0], r.err
	}
	defer catch(r.name, &err)
	from, n := r.row, min(r.b.n-r.row, max(limit, 1))
	evs = slices.Grow(evs[:0], n)[:n]
	for i := range r.ncols {
		if cols&(1<<i) != 0 {
			if err := r.load(i); err != nil {
				return evs[:0], err
			}
		}
	}
	if cols&ColumnBit("dur_ns") != 0 && r.ncols <= durColumn {
		for k := range evs {
			evs[k].DurNS = 0 // a version 1 file: no duration known
		}
	}
	// Column by column over slices of rows that fit in the cache.
	const chunk = 256
	for k := 0; k < n; k += chunk {
		part := evs[k:min(k+chunk, n)]
		for i := range r.ncols {
			if cols&(1<<i) != 0 && !traceColumns[i].fill(&r.cols[i], part, from+k) {
				return evs[:0], r.badRow(i)
			}
		}
	}
	r.row += n
	r.rows += int64(n)
	return evs, nil
}

// The reader decodes record batches itself rather than through the Arrow
// library: the layout of a trace is fixed (format version 1: every column a
// primitive array, a dictionary-encoded string with int16 indices, or
// binary), so a batch is a list of buffers, each an int64 uncompressed
// length and a zstd frame (or -1 and the raw bytes). Decoding only the
// buffers of the columns asked for, into buffers reused from batch to batch
// with one zstd decoder, is what makes reading cheap.

// buffers per column in a record batch: validity and values; binary has
// validity, offsets and data.
func bufferCount(c *column) int {
	if c.kind == kindBinary {
		return 3
	}
	return 2
}

// batch is the current record batch, undecoded: its body and where each
// column's buffers are in it.
type batch struct {
	n          int
	body       []byte
	compressed bool
	nulls      []int64  // per column
	bufs       [][2]int // per buffer: offset and length in body
	first      []int    // per column: index of its first buffer
	loaded     Columns  // columns decoded for this batch
}

// colState is one column of the current batch, decoded.
type colState struct {
	validity, values, data []byte
	nulls                  int64
	// Dictionary columns: the dictionary in force, and the dictionary
	// batches not decoded yet (kept compressed until the column is read).
	dict    []string
	pending []dictBatch
	hasDict bool
}

// dictBatch is a dictionary batch kept for later: its values count, and
// its validity, offsets and data buffers as stored.
type dictBatch struct {
	delta      bool
	n          int
	compressed bool
	bufs       [3][]byte
}

var (
	zstdOnce sync.Once
	zstdDec  *zstd.Decoder
	zstdErr  error
)

// decoder returns the zstd decoder every Reader shares; DecodeAll is safe
// for concurrent use. Its output is bounded by the destination's capacity,
// which is the uncompressed length a buffer declares, at most maxAlloc.
func decoder() (*zstd.Decoder, error) {
	zstdOnce.Do(func() {
		zstdDec, zstdErr = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecodeAllCapLimit(true),
			zstd.WithDecoderMaxMemory(maxAlloc))
	})
	return zstdDec, zstdErr
}

// decompress decodes one stored buffer into dst's storage.
func decompress(dst, src []byte, compressed bool) ([]byte, error) {
	if !compressed || len(src) == 0 {
		return append(dst[:0], src...), nil
	}
	if len(src) < 8 {
		return nil, fmt.Errorf("compressed buffer of %d bytes", len(src))
	}
	n := int64(binary.LittleEndian.Uint64(src))
	if n == -1 {
		return append(dst[:0], src[8:]...), nil
	}
	if n < 0 || n > maxAlloc {
		return nil, fmt.Errorf("buffer of %d bytes is larger than any pain file writes", n)
	}
	d, err := decoder()
	if err != nil {
		return nil, err
	}
	dst = slices.Grow(dst[:0], int(n))
	out, err := d.DecodeAll(src[8:], dst[:0])
	if err != nil {
		return nil, fmt.Errorf("zstd: %v", err)
	}
	if int64(len(out)) != n {
		return nil, fmt.Errorf("buffer decompresses to %d bytes, not the %d it declares", len(out), n)
	}
	return out, nil
}

// i64 reads a little-endian int64 scalar field of a table (0 when absent).
func (f *fb) i64(table, slot int) (int64, error) {
	p, err := f.field(table, slot)
	if err != nil || p == 0 {
		return 0, err
	}
	if p+8 > len(f.b) {
		return 0, fmt.Errorf("offset %d outside the %d-byte header", p, len(f.b))
	}
	return int64(binary.LittleEndian.Uint64(f.b[p:])), nil
}

// u8 reads a byte scalar field of a table (0 when absent).
func (f *fb) u8(table, slot int) (byte, error) {
	p, err := f.field(table, slot)
	if err != nil || p == 0 {
		return 0, err
	}
	if p >= len(f.b) {
		return 0, fmt.Errorf("offset %d outside the %d-byte header", p, len(f.b))
	}
	return f.b[p], nil
}

// Message header types (Message.fbs) and the zstd codec (BodyCompression).
const (
	msgSchema     = 1
	msgDictionary = 2
	msgRecord     = 3
	codecZSTD     = 1
)

// header is what the reader needs of a RecordBatch table.
type header struct {
	length     int64
	nodes      [][2]int64 // length, null count
	bufs       [][2]int   // offset, length in the body
	compressed bool
}

// recordHeader reads the RecordBatch table at t, checking that its buffers
// lie inside a body of bodyLen bytes.
func (f *fb) recordHeader(t, bodyLen int, h *header) error {
	var err error
	if h.length, err = f.i64(t, 0); err != nil {
		return err
	}
	pos, n, err := f.vector(t, 1, 16)
	if err != nil {
		return err
	}
	h.nodes = h.nodes[:0]
	for i := range n {
		p := pos + 16*i
		h.nodes = append(h.nodes, [2]int64{int64(binary.LittleEndian.Uint64(f.b[p:])), int64(binary.LittleEndian.Uint64(f.b[p+8:]))})
	}
	if pos, n, err = f.vector(t, 2, 16); err != nil {
		return err
	}
	h.bufs = h.bufs[:0]
	for i := range n {
		p := pos + 16*i
		off, l := int64(binary.LittleEndian.Uint64(f.b[p:])), int64(binary.LittleEndian.Uint64(f.b[p+8:]))
		if off < 0 || l < 0 || off > int64(bodyLen) || l > int64(bodyLen)-off {
			return fmt.Errorf("buffer %d at %d+%d outside the %d-byte body", i, off, l, bodyLen)
		}
		h.bufs = append(h.bufs, [2]int{int(off), int(l)})
	}
	comp, err := f.ref(t, 3)
	if err != nil || comp == 0 {
		h.compressed = false
		return err
	}
	codec, err := f.u8(comp, 0)
	if err != nil {
		return err
	}
	if codec != codecZSTD {
		return fmt.Errorf("compression codec %d; pain files use zstd", codec)
	}
	h.compressed = true
	return nil
}

// dictIDs reads the dictionary id of each field of a schema message (-1 for
// a field that is not dictionary-encoded).
func dictIDs(meta []byte, n int) ([]int64, error) {
	f := &fb{b: meta}
	root, err := f.u32(0)
	if err != nil {
		return nil, err
	}
	hdr, err := f.ref(root, 2)
	if err != nil {
		return nil, err
	}
	pos, count, err := f.vector(hdr, 1, 4)
	if err != nil {
		return nil, err
	}
	if count < n {
		return nil, fmt.Errorf("schema of %d fields", count)
	}
	ids := make([]int64, n)
	for i := range ids {
		off, err := f.u32(pos + 4*i)
		if err != nil {
			return nil, err
		}
		field := pos + 4*i + off
		enc, err := f.ref(field, 4)
		if err != nil {
			return nil, err
		}
		ids[i] = -1
		if enc != 0 {
			if ids[i], err = f.i64(enc, 0); err != nil {
				return nil, err
			}
		}
	}
	return ids, nil
}

var errEnd = errors.New("end of stream")

// readBatch reads messages up to the next record batch, keeping the
// dictionary batches on the way. It returns errEnd at the end-of-stream
// marker, an error wrapping io.EOF or io.ErrUnexpectedEOF for a stream cut
// short, and others for corrupt input.
func (r *Reader) readBatch() error {
	for {
		meta, body, err := r.msgs.frame(r.b.body)
		if err != nil {
			if r.msgs.eos {
				return errEnd
			}
			return err
		}
		r.b.body = body
		f := &fb{b: meta}
		root, err := f.u32(0)
		if err != nil {
			return err
		}
		kind, err := f.u8(root, 1)
		if err != nil {
			return err
		}
		hdr, err := f.ref(root, 2)
		if err != nil {
			return err
		}
		if hdr == 0 {
			return fmt.Errorf("message without a header")
		}
		switch kind {
		case msgRecord:
			return r.recordBatch(f, hdr)
		case msgDictionary:
			if err := r.dictionaryBatch(f, hdr); err != nil {
				return err
			}
		default:
			return fmt.Errorf("message type %d inside the stream", kind)
		}
	}
}

func (r *Reader) recordBatch(f *fb, hdr int) error {
	h := &r.hdr
	if err := f.recordHeader(hdr, len(r.b.body), h); err != nil {
		return err
	}
	if len(h.nodes) < r.ncols {
		return fmt.Errorf("batch has %d columns", len(h.nodes))
	}
	if h.length < 0 || h.length > maxAlloc/8 {
		return fmt.Errorf("batch of %d rows", h.length)
	}
	b := &r.b
	b.n, b.compressed, b.loaded = int(h.length), h.compressed, 0
	b.nulls, b.first = b.nulls[:0], b.first[:0]
	k := 0
	for i := range r.ncols {
		c := &traceColumns[i]
		if h.nodes[i][0] != h.length {
			return fmt.Errorf("column %s has %d rows, want %d", c.name, h.nodes[i][0], h.length)
		}
		b.nulls = append(b.nulls, h.nodes[i][1])
		b.first = append(b.first, k)
		k += bufferCount(c)
	}
	if len(h.bufs) < k {
		return fmt.Errorf("batch has %d buffers, want %d", len(h.bufs), k)
	}
	b.bufs = append(b.bufs[:0], h.bufs...)
	return nil
}

func (r *Reader) dictionaryBatch(f *fb, hdr int) error {
	id, err := f.i64(hdr, 0)
	if err != nil {
		return err
	}
	delta, err := f.u8(hdr, 2)
	if err != nil {
		return err
	}
	data, err := f.ref(hdr, 1)
	if err != nil {
		return err
	}
	if data == 0 {
		return fmt.Errorf("dictionary batch without data")
	}
	col := -1
	for i, d := range r.dictID {
		if d == id && d >= 0 {
			col = i
		}
	}
	if col < 0 {
		return fmt.Errorf("dictionary %d belongs to no column", id)
	}
	h := &r.hdr
	if err := f.recordHeader(data, len(r.b.body), h); err != nil {
		return err
	}
	if len(h.nodes) < 1 || len(h.bufs) < 3 || h.length != h.nodes[0][0] || h.length < 0 || h.length > 1<<16 {
		return fmt.Errorf("dictionary of column %s is malformed", traceColumns[col].name)
	}
	c := &r.cols[col]
	d := dictBatch{delta: delta != 0, n: int(h.length), compressed: h.compressed}
	if !d.delta {
		c.pending = c.pending[:0] // a replacement: nothing before it matters
	}
	for k := range d.bufs {
		s := h.bufs[k]
		d.bufs[k] = append([]byte(nil), r.b.body[s[0]:s[0]+s[1]]...)
	}
	c.pending = append(c.pending, d)
	c.hasDict = true
	return nil
}

// badRow is the error of a column whose fill found a bad value.
func (r *Reader) badRow(i int) error {
	r.err = fmt.Errorf("%s: %w", r.name, errorf(ErrCorrupt, "batch %d column %s: an index outside its dictionary", r.batch, traceColumns[i].name))
	return r.err
}

// load decodes column i of the current batch, once.
func (r *Reader) load(i int) error {
	b := &r.b
	if b.loaded&(1<<i) != 0 {
		return nil
	}
	if err := r.decodeColumn(i); err != nil {
		r.err = fmt.Errorf("%s: %w", r.name, errorf(ErrCorrupt, "batch %d column %s: %v", r.batch, traceColumns[i].name, err))
		return r.err
	}
	b.loaded |= 1 << i
	return nil
}

func (r *Reader) decodeColumn(i int) error {
	b, c, col := &r.b, &r.cols[i], &traceColumns[i]
	buf := func(k int) []byte {
		s := b.bufs[b.first[i]+k]
		return b.body[s[0] : s[0]+s[1]]
	}
	var err error
	n := b.n
	c.nulls = b.nulls[i]
	if c.nulls < 0 || c.nulls > int64(n) {
		return fmt.Errorf("%d nulls in %d rows", c.nulls, n)
	}
	if c.nulls > 0 {
		if c.validity, err = decompress(c.validity, buf(0), b.compressed); err != nil {
			return err
		}
		if len(c.validity) < (n+7)/8 {
			return fmt.Errorf("validity of %d bytes for %d rows", len(c.validity), n)
		}
	}
	if c.values, err = decompress(c.values, buf(1), b.compressed); err != nil {
		return err
	}
	switch col.kind {
	case kindI64, kindU64:
		if len(c.values) < 8*n {
			return fmt.Errorf("%d bytes for %d rows", len(c.values), n)
		}
	case kindI32:
		if len(c.values) < 4*n {
			return fmt.Errorf("%d bytes for %d rows", len(c.values), n)
		}
	case kindDict:
		if len(c.values) < 2*n {
			return fmt.Errorf("%d bytes for %d rows", len(c.values), n)
		}
		// The indices are checked as they are read (fill).
		if err := r.applyDicts(c); err != nil {
			return err
		}
	case kindBinary:
		if c.data, err = decompress(c.data, buf(2), b.compressed); err != nil {
			return err
		}
		return checkOffsets(c.values, n, len(c.data))
	}
	return nil
}

// applyDicts decodes the dictionary batches a column has not used yet.
func (r *Reader) applyDicts(c *colState) error {
	if !c.hasDict {
		return fmt.Errorf("no dictionary")
	}
	for _, d := range c.pending {
		if !d.delta {
			c.dict = c.dict[:0]
		}
		offs, err := decompress(r.offs, d.bufs[1], d.compressed)
		if err != nil {
			return err
		}
		r.offs = offs
		data, err := decompress(r.data, d.bufs[2], d.compressed)
		if err != nil {
			return err
		}
		r.data = data
		if err := checkOffsets(offs, d.n, len(data)); err != nil {
			return fmt.Errorf("dictionary: %v", err)
		}
		for k := range d.n {
			lo, hi := binary.LittleEndian.Uint32(offs[4*k:]), binary.LittleEndian.Uint32(offs[4*k+4:])
			c.dict = append(c.dict, r.in.getBytes(data[lo:hi]))
		}
		if len(c.dict) > 1<<15 { // int16 indices
			return fmt.Errorf("dictionary of %d values", len(c.dict))
		}
	}
	c.pending = c.pending[:0]
	return nil
}

// checkOffsets checks the n+1 int32 offsets of a binary array: rising, and
// inside its data.
func checkOffsets(offs []byte, n, dataLen int) error {
	if n == 0 {
		return nil
	}
	if len(offs) < 4*(n+1) {
		return fmt.Errorf("%d bytes of offsets for %d values", len(offs), n)
	}
	prev := int32(binary.LittleEndian.Uint32(offs))
	if prev < 0 {
		return fmt.Errorf("offset %d", prev)
	}
	for k := 1; k <= n; k++ {
		o := int32(binary.LittleEndian.Uint32(offs[4*k:]))
		if o < prev || int(o) > dataLen {
			return fmt.Errorf("offset %d after %d in %d bytes", o, prev, dataLen)
		}
		prev = o
	}
	return nil
}

func valid(bitmap []byte, k int) bool { return bitmap[k>>3]&(1<<(k&7)) != 0 }
