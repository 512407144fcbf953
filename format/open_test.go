package format

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// eachAll opens data with OpenTrace and collects the rows Each hands out.
func eachAll(t *testing.T, data []byte, name string, limit int) (Meta, []Event, error) {
	t.Helper()
	tr, err := OpenTrace(bytes.NewReader(data), name)
	if err != nil {
		return Meta{}, nil, err
	}
	defer tr.Close()
	var evs []Event
	err = tr.Each(AllColumns, limit, func(b []Event) { evs = append(evs, b...) })
	return tr.Meta(), evs, err
}

// TestOpenTrace: the Arrow and text forms of one trace give the same
// metadata and rows through one opener, whatever the batch size.
func TestOpenTrace(t *testing.T) {
	want := sampleEvents()
	arrow := writeTrace(t, sampleMeta(), want)
	var text bytes.Buffer
	if err := WriteTextHeader(&text, sampleMeta()); err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if err := WriteText(&text, &want[i]); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name  string
		data  []byte
		limit int
	}{{"t.arrows", arrow, 2}, {"t.arrows", arrow, BatchRows}, {"t.txt", text.Bytes(), 2}} {
		m, got, err := eachAll(t, tc.data, tc.name, tc.limit)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s (limit %d): rows differ:\ngot  %+v\nwant %+v", tc.name, tc.limit, got, want)
		}
		if m.Run != "run-0001" || m.Host != "box" {
			t.Errorf("%s: meta %+v", tc.name, m)
		}
	}
}

func TestOpenTraceErrors(t *testing.T) {
	evs := manyEvents(2*BatchRows + 5)
	full := writeTrace(t, sampleMeta(), evs)
	_, got, err := eachAll(t, full[:len(full)*3/4], "cut.arrows", 256)
	if !errors.Is(err, ErrTruncated) || len(got) == 0 || !reflect.DeepEqual(got, evs[:len(got)]) {
		t.Errorf("cut trace: %d rows, err %v; want its whole batches, then ErrTruncated", len(got), err)
	}
	sched := encodeSchedules(t, sampleSchedules())
	if _, err := OpenTrace(bytes.NewReader(sched), "s.arrows"); !errors.Is(err, ErrWrongKind) {
		t.Errorf("schedules file: err = %v, want ErrWrongKind", err)
	}
	var st bytes.Buffer
	if err := WriteSchedulesText(&st, sampleSchedules()); err != nil {
		t.Fatal(err)
	}
	_, err = OpenTrace(&st, "s.txt")
	if err == nil || !strings.HasPrefix(err.Error(), "s.txt: holds schedules in text form") {
		t.Errorf("schedules in text form: err = %v", err)
	}
}
