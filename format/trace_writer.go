package format

import (
	"fmt"
	"io"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/ipc"
	"github.com/apache/arrow/go/v17/arrow/memory"
)

// BatchRows is how many rows the writer gathers at most before it writes
// a record batch: large enough for zstd to find the repetition in names
// and sizes, and for the headers of a batch and its dictionaries (about
// 1.5 KB for a trace) to cost little per row; small enough that a run cut
// short loses little (pain-trace also flushes four times a second, which
// bounds a batch first at more than 16,000 rows a second), and below the
// 32,767 names a batch's 16-bit dictionary indices can hold.
const BatchRows = 16384

// Writer writes a trace as an Arrow IPC stream with zstd-compressed batches.
// Rows are buffered; a batch goes out when BatchRows are pending or on Flush.
// A Writer is not safe for concurrent use.
type Writer struct {
	ipc   *ipc.Writer
	mem   memory.Allocator
	b     *array.RecordBuilder
	dicts []*dictColumn // per column; nil for the columns put writes
	rows  int
	err   error
}

// dictColumn gathers one batch of a text column: its distinct values in
// first-seen order and each row's index. Names repeat from one row to the
// next, so the last value is checked before the map; this is several times
// cheaper than Arrow's dictionary builder, which hashes (and copies) every
// value.
type dictColumn struct {
	index  map[string]int
	values []string
	rows   []int
	last   string
	lastID int
}

func (d *dictColumn) add(s string) {
	if d.lastID < 0 || s != d.last {
		id, ok := d.index[s]
		if !ok {
			id = len(d.values)
			d.values = append(d.values, s)
			d.index[s] = id
		}
		d.last, d.lastID = s, id
	}
	d.rows = append(d.rows, d.lastID)
}

// flush hands the batch to Arrow's builder and starts the next batch with
// an empty dictionary, so a long run cannot outgrow the 16-bit indices.
func (d *dictColumn) flush(mem memory.Allocator, b *array.BinaryDictionaryBuilder) error {
	sb := array.NewStringBuilder(mem)
	sb.AppendValues(d.values, nil)
	values := sb.NewStringArray()
	defer values.Release()
	sb.Release()
	if err := b.InsertStringDictValues(values); err != nil {
		return err
	}
	b.AppendIndices(d.rows, nil)
	clear(d.index)
	d.values, d.rows, d.last, d.lastID = d.values[:0], d.rows[:0], "", -1
	return nil
}

// Compression is how a writer stores the buffers of its batches.
type Compression string

// The compressions a writer knows. Readers read both.
const (
	Zstd         Compression = "zstd" // the default
	Uncompressed Compression = "none" // for readers without a zstd codec
)

// ParseCompression reads a -compress flag value.
func ParseCompression(s string) (Compression, error) {
	switch c := Compression(s); c {
	case Zstd, Uncompressed:
		return c, nil
	}
	return "", fmt.Errorf("compression %q is neither zstd nor none", s)
}

// WriterOption changes how a Writer writes.
type WriterOption func(*writerConfig)

type writerConfig struct{ compression Compression }

// WithCompression sets the compression of the batches (Zstd by default,
// also when c is empty).
func WithCompression(c Compression) WriterOption {
	return func(wc *writerConfig) { wc.compression = c }
}

// newIPCWriter starts an Arrow stream of schema on w: every message with
// its checksum, batches compressed as asked.
func newIPCWriter(w io.Writer, schema *arrow.Schema, mem memory.Allocator, opts []WriterOption) *ipc.Writer {
	cfg := writerConfig{compression: Zstd}
	for _, o := range opts {
		o(&cfg)
	}
	ipcOpts := []ipc.Option{ipc.WithSchema(schema), ipc.WithAllocator(mem)}
	if cfg.compression != Uncompressed {
		ipcOpts = append(ipcOpts, ipc.WithZstd())
	}
	return ipc.NewWriterWithPayloadWriter(&sumWriter{w: w}, ipcOpts...)
}

// NewWriter starts a trace on w with the given metadata. Meta.Kind defaults
// to KindTrace.
func NewWriter(w io.Writer, m Meta, opts ...WriterOption) (*Writer, error) {
	if m.Kind == "" {
		m.Kind = KindTrace
	}
	schema := traceSchema(m)
	mem := memory.NewGoAllocator()
	iw := newIPCWriter(w, schema, mem, opts)
	tw := &Writer{ipc: iw, mem: mem, b: array.NewRecordBuilder(mem, schema), dicts: make([]*dictColumn, len(traceColumns))}
	for i, c := range traceColumns {
		if c.text != nil {
			tw.dicts[i] = &dictColumn{index: map[string]int{}, lastID: -1}
		}
	}
	return tw, nil
}

// Write appends one row.
func (w *Writer) Write(e *Event) error {
	if w.err != nil {
		return w.err
	}
	for i, c := range traceColumns {
		if d := w.dicts[i]; d != nil {
			d.add(*c.text(e))
		} else {
			c.put(w.b.Field(i), e)
		}
	}
	w.rows++
	if w.rows >= BatchRows {
		return w.Flush()
	}
	return nil
}

// Flush writes the pending rows as one record batch, if there are any.
func (w *Writer) Flush() error {
	if w.err != nil || w.rows == 0 {
		return w.err
	}
	for i, d := range w.dicts {
		if d != nil {
			if err := d.flush(w.mem, w.b.Field(i).(*array.BinaryDictionaryBuilder)); err != nil {
				w.err = fmt.Errorf("writing trace batch: %w", err)
				return w.err
			}
		}
	}
	rec := w.b.NewRecord()
	defer rec.Release()
	w.rows = 0
	// Each batch gets a dictionary of its own names: a run's dictionaries
	// would otherwise grow for as long as it runs.
	for i, d := range w.dicts {
		if d != nil {
			w.b.Field(i).(*array.BinaryDictionaryBuilder).ResetFull()
		}
	}
	if err := w.ipc.Write(rec); err != nil {
		w.err = fmt.Errorf("writing trace batch: %w", err)
	}
	return w.err
}

// Close flushes and ends the stream with its end-of-stream marker, which is
// how a reader tells a finished trace from one cut short. It does not close
// the underlying io.Writer.
func (w *Writer) Close() error {
	err := w.Flush()
	if cerr := w.ipc.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("closing trace: %w", cerr)
	}
	w.b.Release()
	return err
}
