package format

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"
)

// readBatches reads a trace with NextBatch.
func readBatches(data []byte, name string) ([]Event, error) {
	r, err := NewReader(bytes.NewReader(data), name)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var all, buf []Event
	for {
		buf, err = r.NextBatch(buf)
		all = append(all, buf...)
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			return all, err
		}
	}
}

// TestNextBatch checks that NextBatch gives exactly what Next gives, for
// every column (sampleEvents sets them all), across batches and for a trace
// cut short.
func TestNextBatch(t *testing.T) {
	for name, evs := range map[string][]Event{"sample": sampleEvents(), "many": manyEvents(2*BatchRows + 5)} {
		data := writeTrace(t, sampleMeta(), evs)
		got, err := readBatches(data, name)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, evs) {
			t.Errorf("%s: NextBatch rows differ from what was written", name)
		}
		_, one, err1 := readAll(data[:len(data)*2/3], name)
		batch, err2 := readBatches(data[:len(data)*2/3], name)
		if !errors.Is(err2, ErrTruncated) || err1.Error() != err2.Error() || !reflect.DeepEqual(one, batch) {
			t.Errorf("%s cut short: Next gives %d rows (%v), NextBatch %d (%v)", name, len(one), err1, len(batch), err2)
		}
	}
	// Next and NextBatch mix: a batch continues where Next stopped.
	evs := manyEvents(BatchRows + 10)
	r, err := NewReader(bytes.NewReader(writeTrace(t, sampleMeta(), evs)), "mix")
	if err != nil {
		t.Fatal(err)
	}
	var e Event
	r.Next(&e)
	rest, err := r.NextBatch(nil)
	if err != nil || len(rest) != BatchRows-1 || !reflect.DeepEqual(rest[0], evs[1]) {
		t.Errorf("NextBatch after Next: %d rows, err %v", len(rest), err)
	}
}

func TestColumnNames(t *testing.T) {
	for i, c := range traceColumns {
		if ColumnBit(c.name) != 1<<i {
			t.Errorf("column %d, %s, has bit %b", i, c.name, ColumnBit(c.name))
		}
	}
	// Unselected columns stay as they were.
	r, err := NewReader(bytes.NewReader(writeTrace(t, sampleMeta(), sampleEvents())), "cols")
	if err != nil {
		t.Fatal(err)
	}
	evs, err := r.NextBatchOf(nil, AllColumns&^ColumnBit("local_addr")&^ColumnBit("payload"))
	if err != nil {
		t.Fatal(err)
	}
	want := sampleEvents()
	for i := range want {
		want[i].LocalAddr, want[i].Payload = "", nil
	}
	if !reflect.DeepEqual(evs, want) {
		t.Errorf("NextBatchOf without local_addr and payload:\ngot  %+v\nwant %+v", evs, want)
	}
}

// TestNextRowsOf checks that reading a few rows at a time gives the rows
// Next gives, across batches, and that a closed reader says so.
func TestNextRowsOf(t *testing.T) {
	evs := manyEvents(2*BatchRows + 300)
	evs[5].Payload = []byte("abc")
	data := writeTrace(t, sampleMeta(), evs)
	for _, limit := range []int{0, 1, 7, 256, BatchRows + 1} {
		r, err := NewReader(bytes.NewReader(data), "rows")
		if err != nil {
			t.Fatal(err)
		}
		var all, buf []Event
		for {
			buf, err = r.NextRowsOf(buf, AllColumns, limit)
			if len(buf) > max(limit, 1) {
				t.Fatalf("limit %d: %d rows", limit, len(buf))
			}
			all = append(all, buf...)
			if err != nil {
				break
			}
		}
		if err != io.EOF || !reflect.DeepEqual(all, evs) {
			t.Errorf("limit %d: %d rows, err %v; want %d rows", limit, len(all), err, len(evs))
		}
		r.Close()
		if _, err := r.NextRowsOf(nil, AllColumns, limit); err == nil || err == io.EOF {
			t.Errorf("limit %d: read after Close: err %v", limit, err)
		}
	}
}
