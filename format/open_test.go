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

// TestMetaPlan: an injected run's plan is typed in Meta, read back with
// its version checked, in Arrow and text form.
func TestMetaPlan(t *testing.T) {
	m := sampleMeta()
	m.Plan = &Plan{V: 1, ID: "p7", Why: "x", Faults: []Fault{{Kind: FaultPause, Duration: Duration(1500e6), Target: Target{Node: "kv1"}}}}
	got, _, err := readAll(writeTrace(t, m, sampleEvents()), "p.arrows")
	if err != nil || !reflect.DeepEqual(got.Plan, m.Plan) {
		t.Fatalf("Arrow: plan %+v, %v; want %+v", got.Plan, err, m.Plan)
	}
	var text bytes.Buffer
	if err := WriteTextHeader(&text, m); err != nil {
		t.Fatal(err)
	}
	if got, _, err := ReadText(&text, "p.txt"); err != nil || !reflect.DeepEqual(got.Plan, m.Plan) {
		t.Fatalf("text: plan %+v, %v; want %+v", got.Plan, err, m.Plan)
	}
	keys, values := MetaPairs(m)
	for i, k := range keys {
		if k == KeyPlan {
			values[i] = strings.Replace(values[i], `"v":1`, `"v":9`, 1)
		}
	}
	if _, err := parseMeta(keys, values, KindTrace); !errors.Is(err, ErrNewerVersion) || !strings.HasPrefix(err.Error(), "pain.plan: plan format version 9") {
		t.Errorf("newer plan in a trace: err = %v, want pain.plan: ... ErrNewerVersion", err)
	}
}
