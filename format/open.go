package format

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
)

// Trace is a trace opened for reading, in Arrow or text form: the one way
// a tool that takes either reads the rows.
type Trace struct {
	meta Meta
	r    *Reader // Arrow form
	text []Event // text form: read whole at open (text traces are small)
	evs  []Event // the batch Each hands out, reused
}

// OpenTrace reads the head of a trace from r, in Arrow or text form: its
// metadata, and in text form every row. name is the file name used in
// errors. A text file of another kind (a schedules file printed by
// pain-track -text) is refused by name; an Arrow file of another kind
// returns an error wrapping ErrWrongKind, so a caller that also takes
// that kind can read it instead. A *bufio.Reader given as r is used as it
// is (a caller reading many files reuses one).
func OpenTrace(r io.Reader, name string) (*Trace, error) {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 1<<16)
	}
	head, _ := br.Peek(64)
	if !isText(head) {
		rd, err := NewReader(br, name)
		if err != nil {
			return nil, err
		}
		return &Trace{meta: rd.Meta(), r: rd}, nil
	}
	if h, ok := bytes.CutPrefix(head, []byte("# pain ")); ok && !bytes.HasPrefix(h, []byte("trace ")) {
		kind, _, _ := strings.Cut(string(h), " ")
		return nil, fmt.Errorf("%s: holds %s in text form; traces are read in Arrow or text form, schedules files in Arrow form only", name, kind)
	}
	m, evs, err := ReadText(br, name)
	if err != nil {
		return nil, err
	}
	return &Trace{meta: m, text: evs}, nil
}

// isText reports whether a file starts like the text form of a trace.
func isText(head []byte) bool {
	return len(head) > 0 && (head[0] == '#' || head[0] >= '0' && head[0] <= '9' || head[0] == '\n')
}

// Meta returns the trace's metadata.
func (t *Trace) Meta() Meta { return t.meta }

// Each calls fn with the rows of the trace in order: in Arrow form with
// only the columns cols filled, at most limit rows at a time (a few hundred
// stay in the processor's cache from reader to caller); in text form all at
// once. fn must not keep the slice. A trace cut short gives its rows, then
// its error wrapping ErrTruncated; the end of a complete trace is nil.
func (t *Trace) Each(cols Columns, limit int, fn func([]Event)) error {
	if t.r == nil {
		fn(t.text)
		return nil
	}
	for {
		var err error
		t.evs, err = t.r.NextRowsOf(t.evs, cols, limit)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		fn(t.evs)
	}
}

// Close releases the reader's buffers. It does not close the source.
func (t *Trace) Close() error {
	if t.r != nil {
		return t.r.Close()
	}
	return nil
}
