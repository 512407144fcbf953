package format

import (
	"fmt"
	"io"

	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/ipc"
	"github.com/apache/arrow/go/v17/arrow/memory"
)

// BatchRows is how many rows the writer gathers before it writes a record
// batch: large enough for zstd to find the repetition in names and sizes,
// small enough that a run cut short loses little.
const BatchRows = 4096

// Writer writes a trace as an Arrow IPC stream with zstd-compressed batches.
// Rows are buffered; a batch goes out when BatchRows are pending or on Flush.
// A Writer is not safe for concurrent use.
type Writer struct {
	ipc  *ipc.Writer
	b    *array.RecordBuilder
	rows int
	err  error
}

// NewWriter starts a trace on w with the given metadata. Meta.Kind defaults
// to KindTrace.
func NewWriter(w io.Writer, m Meta) (*Writer, error) {
	if m.Kind == "" {
		m.Kind = KindTrace
	}
	schema := traceSchema(m)
	mem := memory.NewGoAllocator()
	iw := ipc.NewWriter(w, ipc.WithSchema(schema), ipc.WithZstd(), ipc.WithAllocator(mem))
	return &Writer{ipc: iw, b: array.NewRecordBuilder(mem, schema)}, nil
}

// Write appends one row.
func (w *Writer) Write(e *Event) error {
	if w.err != nil {
		return w.err
	}
	for i, c := range traceColumns {
		c.put(w.b.Field(i), e)
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
	rec := w.b.NewRecord()
	defer rec.Release()
	w.rows = 0
	// Each batch gets a dictionary of its own names: a run's dictionaries
	// would otherwise grow for as long as it runs.
	for i, c := range traceColumns {
		if c.typ == dictString {
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
