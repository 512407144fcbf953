package format

import "slices"

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
// saves the work of the rest.
func (r *Reader) NextBatchOf(evs []Event, cols Columns) (_ []Event, err error) {
	for r.err == nil && r.row >= r.batchLen() {
		r.nextBatch()
	}
	if r.err != nil {
		return evs[:0], r.err
	}
	defer catch(r.name, &err)
	from, n := r.row, r.batchLen()-r.row
	evs = slices.Grow(evs[:0], n)[:n]
	for i, fill := range r.fills {
		if cols&(1<<i) != 0 {
			fill(evs, from)
		}
	}
	r.row += n
	r.rows += int64(n)
	return evs, nil
}
