package format

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/ipc"
	"github.com/apache/arrow/go/v17/arrow/memory"
)

// maxAlloc bounds any one buffer a reader allocates, so a corrupt length in
// an untrusted file is an error and not an attempt to allocate terabytes.
const maxAlloc = 256 << 20

// Reader reads the rows of a trace written by Writer, batch by batch.
type Reader struct {
	name   string
	meta   Meta
	msgs   *messages
	ipc    *ipc.Reader // read the schema; batches are decoded by trace_batch.go
	dictID []int64     // per column, its dictionary id (-1 for none)
	ncols  int         // columns of traceColumns the file has (older versions have fewer)
	*readBufs
	one   [1]Event
	row   int
	rows  int64
	batch int
	err   error // sticky: io.EOF or the first error
}

// readBufs is the memory a Reader decodes into, handed from one Reader to
// the next (a tool reading many traces reads them one after another): the
// buffers are then allocated once, and the interner keeps its names, so
// rows of all the traces share them.
type readBufs struct {
	b          batch
	hdr        header
	cols       []colState
	offs, data []byte // scratch for dictionaries
	meta       []byte // the messages' header buffer
	in         interner
}

var bufPool = sync.Pool{New: func() any { return &readBufs{cols: make([]colState, len(traceColumns))} }}

// errClosed is the error of a Reader used after Close.
var errClosed = errors.New("reader used after Close")

// NewReader reads the schema of a trace from r and checks its version. name
// is the file name used in errors (run-7.arrows: ...).
func NewReader(r io.Reader, name string) (rd *Reader, err error) {
	defer catch(name, &err)
	msgs := &messages{r: r}
	ir, meta, err := openStream(msgs, KindTrace, func(s *arrow.Schema, m Meta) error {
		return checkFields(s, columnsOf(m.Version), func(i int) (string, arrow.DataType) {
			return traceColumns[i].name, traceColumns[i].typ
		})
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	ncols := columnsOf(meta.Version)
	ids, err := dictIDs(msgs.schema, ncols)
	if err != nil {
		ir.Release()
		return nil, fmt.Errorf("%s: %w", name, errorf(ErrCorrupt, "schema: %v", err))
	}
	rb := bufPool.Get().(*readBufs)
	msgs.meta = rb.meta
	return &Reader{name: name, meta: meta, msgs: msgs, ipc: ir, dictID: ids, ncols: ncols, readBufs: rb}, nil
}

// openStream reads the schema of a pain Arrow stream and checks its
// version, its kind and, with check, its columns. Errors are unnamed: the
// caller puts the file name in front.
func openStream(msgs *messages, kind string, check func(*arrow.Schema, Meta) error) (*ipc.Reader, Meta, error) {
	ir, err := ipc.NewReaderFromMessageReader(msgs, ipc.WithAllocator(&boundedAllocator{}))
	if err != nil {
		if msgs.summed && errors.Is(err, ErrCorrupt) {
			// A schema with a pain checksum: a pain file, damaged.
			return nil, Meta{}, errorf(ErrCorrupt, "%s", strings.TrimPrefix(err.Error(), "arrow/ipc: could not read message schema: "))
		}
		if msgs.eos || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, Meta{}, errorf(ErrNotPain, "empty or cut short before its schema")
		}
		return nil, Meta{}, errorf(ErrNotPain, "not an Arrow IPC stream: %v", err)
	}
	md := ir.Schema().Metadata()
	meta, err := parseMeta(md.Keys(), md.Values(), "")
	if err == nil && meta.Kind != kind {
		what := "a trace"
		if kind != KindTrace {
			what = kind
		}
		err = errorf(ErrWrongKind, "holds %s, not %s", orNone(meta.Kind), what)
	}
	if err == nil {
		err = check(ir.Schema(), meta)
	}
	msgs.sums = meta.Version >= 2
	if err == nil && msgs.sums && !msgs.summed {
		err = errorf(ErrCorrupt, "schema: no checksum, which format version %d requires", meta.Version)
	}
	if err != nil {
		ir.Release()
		return nil, Meta{}, err
	}
	return ir, meta, nil
}

// checkFields makes sure a file's schema starts with the n columns the
// reader needs, with their types; want gives the name and type of column i.
func checkFields(s *arrow.Schema, n int, want func(i int) (string, arrow.DataType)) error {
	for i := range n {
		name, typ := want(i)
		if i >= s.NumFields() {
			return errorf(ErrCorrupt, "column %q missing", name)
		}
		f := s.Field(i)
		if f.Name != name || !arrow.TypeEqual(f.Type, typ) {
			return errorf(ErrCorrupt, "column %d is %s %s, want %s %s", i, f.Name, f.Type, name, typ)
		}
	}
	return nil
}

// Meta returns the file's metadata.
func (r *Reader) Meta() Meta { return r.meta }

// Name returns the name the reader was opened with.
func (r *Reader) Name() string { return r.name }

// Rows returns how many rows have been read so far.
func (r *Reader) Rows() int64 { return r.rows }

// Next reads the next row into e. At the end of a complete trace it returns
// io.EOF. A trace cut short returns an error wrapping ErrTruncated after its
// last complete batch; the error says how many rows were read, so callers can
// warn and go on with what they have.
func (r *Reader) Next(e *Event) (err error) {
	for r.err == nil && r.row >= r.b.n {
		r.nextBatch()
	}
	if r.err != nil {
		return r.err
	}
	defer catch(r.name, &err)
	for i := range r.ncols {
		if err := r.load(i); err != nil {
			return err
		}
		if !traceColumns[i].fill(&r.cols[i], r.one[:], r.row) {
			return r.badRow(i)
		}
	}
	*e = r.one[0]
	r.row++
	r.rows++
	return nil
}

func (r *Reader) nextBatch() {
	defer func() {
		if p := recover(); p != nil {
			r.b.n = 0
			r.err = fmt.Errorf("%s: %w", r.name, errorf(ErrCorrupt, "batch %d: %v", r.batch+1, p))
		}
	}()
	r.row, r.b.n = 0, 0
	err := r.readBatch()
	switch {
	case err == nil:
		r.batch++
	case err == errEnd:
		r.err = io.EOF
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		// The stream stopped without its end marker: the writer was killed
		// or the disk filled. Everything before this point is good.
		r.b.n = 0
		r.err = fmt.Errorf("%s: %w", r.name, errorf(ErrTruncated,
			"trace cut short: read %d rows in %d complete batches; anything after them is lost", r.rows, r.batch))
	case errors.Is(err, ErrCorrupt):
		r.b.n = 0
		r.err = fmt.Errorf("%s: %w", r.name, errorf(ErrCorrupt, "%v (the %d rows before it are good)", err, r.rows))
	default:
		r.b.n = 0
		r.err = fmt.Errorf("%s: %w", r.name, errorf(ErrCorrupt, "batch %d (after %d rows): %v", r.batch+1, r.rows, err))
	}
}

// Close releases the reader's buffers. It does not close the source.
func (r *Reader) Close() error {
	r.ipc.Release()
	if rb := r.readBufs; rb != nil {
		r.readBufs = nil
		if r.err == nil || r.err == io.EOF {
			r.err = fmt.Errorf("%s: %w", r.name, errClosed)
		}
		rb.meta = r.msgs.meta
		rb.b.n, rb.b.loaded = 0, 0
		for i := range rb.cols {
			c := &rb.cols[i]
			c.dict, c.pending, c.hasDict = c.dict[:0], c.pending[:0], false
		}
		bufPool.Put(rb)
	}
	return nil
}

// ReadFile reads a whole trace into memory: for tests and small tools. A
// trace cut short returns its rows together with the ErrTruncated error.
func ReadFile(path string) (Meta, []Event, error) {
	f, err := os.Open(path)
	if err != nil {
		return Meta{}, nil, err
	}
	defer f.Close()
	r, err := NewReader(f, path)
	if err != nil {
		return Meta{}, nil, err
	}
	defer r.Close()
	var evs []Event
	for {
		var e Event
		err := r.Next(&e)
		if err == io.EOF {
			return r.Meta(), evs, nil
		}
		if err != nil {
			return r.Meta(), evs, err
		}
		evs = append(evs, e)
	}
}

// messages frames the Arrow IPC stream itself rather than using the
// library's reader, for three reasons: it must tell a stream that ended
// with its end-of-stream marker from one cut short, it must refuse a
// corrupt length before allocating it, and it checks each message's
// checksum (checksum.go) before anything uses the message.
type messages struct {
	r      io.Reader
	eos    bool // the end-of-stream marker was read
	cur    *ipc.Message
	schema []byte // the header of the last schema message
	meta   []byte // frame's header buffer, reused
	// sums says every message must carry a checksum (format version 2
	// on); until the schema is read, a checksum is checked if present.
	sums    bool
	summed  bool // a message with a checksum was seen
	records int  // record batches read
}

const maxMeta = 1 << 20 // a batch's flatbuffer header is a few kilobytes

func (m *messages) Message() (*ipc.Message, error) {
	if m.cur != nil {
		m.cur.Release()
		m.cur = nil
	}
	meta, body, err := m.read(nil, nil)
	if err != nil {
		return nil, err
	}
	if f := (&fb{b: meta}); len(meta) >= 4 {
		if root, err := f.u32(0); err == nil {
			if kind, err := f.u8(root, 1); err == nil && kind == msgSchema {
				m.schema = meta
			}
		}
	}
	m.cur = ipc.NewMessage(memory.NewBufferBytes(meta), memory.NewBufferBytes(body))
	return m.cur, nil
}

// frame reads the next message into buffers reused from the last call
// (body's storage); its header is valid until the next call.
func (m *messages) frame(body []byte) (meta, _ []byte, err error) {
	meta, body, err = m.read(m.meta, body)
	if meta != nil {
		m.meta = meta
	}
	return meta, body, err
}

// read reads one message into meta's and body's storage (new storage if
// nil), after checking its header, its lengths and its checksums.
func (m *messages) read(meta, body []byte) ([]byte, []byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(m.r, hdr[:]); err != nil {
		return nil, nil, fmt.Errorf("reading message: %w", err) // wraps io.EOF at a clean cut
	}
	n := binary.LittleEndian.Uint32(hdr[:])
	if n == 0xFFFFFFFF { // continuation marker, then the length
		if _, err := io.ReadFull(m.r, hdr[:]); err != nil {
			return nil, nil, fmt.Errorf("reading message length: %w", io.ErrUnexpectedEOF)
		}
		n = binary.LittleEndian.Uint32(hdr[:])
	}
	if n == 0 {
		m.eos = true
		return nil, nil, io.EOF
	}
	if n > maxMeta {
		return nil, nil, m.corrupt("message header of %d bytes", n)
	}
	meta = slices.Grow(meta[:0], int(n))[:n]
	if k, err := io.ReadFull(m.r, meta); err != nil {
		return nil, nil, m.cut("header", meta[:k])
	}
	// The checksum first: when it fails, that is what went wrong, whatever
	// else the damage makes the header say.
	pos, headSum, bodySum, summed, serr := storedChecksum(meta)
	m.summed = m.summed || summed
	if serr == nil && summed && headerSum(meta, pos) != headSum {
		return nil, nil, m.corrupt("checksum mismatch in its header")
	}
	if err := checkMessage(meta); err != nil {
		return nil, nil, m.corrupt("%v", err)
	}
	switch {
	case serr != nil:
		return nil, nil, m.corrupt("%v", serr)
	case !summed && m.sums:
		return nil, nil, m.corrupt("no checksum, which format version 2 requires")
	}
	bodyLen, err := messageBodyLen(meta)
	if err != nil {
		return nil, nil, m.corrupt("%v", err)
	}
	if bodyLen < 0 || bodyLen > maxAlloc {
		return nil, nil, m.corrupt("message body of %d bytes", bodyLen)
	}
	// Grow the body as it arrives, not to the length the header claims: a
	// corrupt or cut file must not cost the allocation of a large body.
	body = body[:0]
	for int64(len(body)) < bodyLen {
		n := int(min(bodyLen-int64(len(body)), int64(max(len(body), 1<<20))))
		body = slices.Grow(body, n)
		k, err := io.ReadFull(m.r, body[len(body):len(body)+n])
		body = body[:len(body)+k]
		if err != nil {
			return nil, nil, m.cut("body", body)
		}
	}
	if summed && crc32.Checksum(body, castagnoli) != bodySum {
		return nil, nil, m.corrupt("checksum mismatch in its body")
	}
	if kind, _ := (&fb{b: meta}).messageKind(); kind == msgRecord {
		m.records++
	}
	return meta, body, nil
}

// corrupt is an ErrCorrupt error naming the message being read: the
// schema, or the record batch it is or whose dictionary it holds.
func (m *messages) corrupt(format string, args ...any) error {
	where := "schema"
	if m.schema != nil {
		where = fmt.Sprintf("batch %d", m.records+1)
	}
	return errorf(ErrCorrupt, "%s: %s", where, fmt.Sprintf(format, args...))
}

// cut is the error of a message whose header or body the stream ended in.
// A file cut short ends anywhere; if what was read of the message ends with
// the end-of-stream marker, the writer finished the file and a corrupt
// length made the message run past it.
func (m *messages) cut(part string, read []byte) error {
	if bytes.HasSuffix(read, eos[:]) {
		return m.corrupt("its %s runs past the end-of-stream marker (a corrupt length)", part)
	}
	return fmt.Errorf("reading message %s: %w", part, io.ErrUnexpectedEOF)
}

// messageKind reads the header type of a message.
func (f *fb) messageKind() (byte, error) {
	root, err := f.u32(0)
	if err != nil {
		return 0, err
	}
	return f.u8(root, 1)
}

// messageBodyLen reads the bodyLength field of a message header.
func messageBodyLen(meta []byte) (int64, error) {
	f := &fb{b: meta}
	root, err := f.u32(0)
	if err != nil {
		return 0, err
	}
	return f.i64(root, 3)
}

func (m *messages) Retain() {}

func (m *messages) Release() {
	if m.cur != nil {
		m.cur.Release()
		m.cur = nil
	}
}

// boundedAllocator refuses absurd allocations; the panic is turned into an
// ErrCorrupt error by the reader.
type boundedAllocator struct{ memory.GoAllocator }

func (a *boundedAllocator) Allocate(size int) []byte {
	if size < 0 || size > maxAlloc {
		panic(fmt.Sprintf("buffer of %d bytes is larger than any pain file writes", size))
	}
	return a.GoAllocator.Allocate(size)
}

func (a *boundedAllocator) Reallocate(size int, b []byte) []byte {
	if size < 0 || size > maxAlloc {
		panic(fmt.Sprintf("buffer of %d bytes is larger than any pain file writes", size))
	}
	return a.GoAllocator.Reallocate(size, b)
}

// catch turns a panic inside the Arrow library on malformed input into an
// ErrCorrupt error naming the file.
func catch(name string, err *error) {
	if p := recover(); p != nil {
		*err = fmt.Errorf("%s: %w", name, errorf(ErrCorrupt, "%v", p))
	}
}
