package format

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/ipc"
)

func sampleSchedules() *Schedules {
	ev := func(node, thread string, seq int64, sc string, mod func(*GraphEvent)) GraphEvent {
		e := GraphEvent{Node: node, Thread: thread, Seq: seq, Count: 1, Syscall: sc, Offset: -1, Role: "system", TimeNS: 1000 * seq}
		if node == "workload" {
			e.Role = "workload"
		}
		if mod != nil {
			mod(&e)
		}
		return e
	}
	const conn = "workload:main:s0>kv1:listen0"
	return &Schedules{
		Meta:        Meta{Version: Version, Kind: KindSchedules, Tool: "pain-track test", Run: "3 runs"},
		Granularity: "message",
		Schedules: []Schedule{{
			ID: "0123456789ab", Rank: 1, Runs: []string{"run-1", "run 2"},
			Events: []GraphEvent{
				ev("kv1", "main", 0, "accept4", func(e *GraphEvent) {
					e.FDKind, e.Local, e.Peer, e.Conn = "tcp", "kv1:main:s1", "workload:main:s0", conn
				}),
				ev("kv1", "main", 2, "read", func(e *GraphEvent) {
					e.FDKind, e.Conn, e.Offset, e.Ret, e.Count, e.PayloadHash = "tcp", conn, 0, 12, 2, 0xfeed
					e.Unsynced = []Unsynced{{File: "$PAIN_RUN_DIR/kv1/wal.log", Writes: 1, Bytes: 12}}
				}),
				ev("workload", "main", 0, "connect", func(e *GraphEvent) { e.FDKind, e.Conn = "tcp", conn }),
				ev("workload", "main", 1, "write", func(e *GraphEvent) { e.FDKind, e.Conn, e.Offset, e.Ret, e.DurNS = "tcp", conn, 0, 12, 250 }),
				ev("workload", "main", 2, "exited", func(e *GraphEvent) { e.Ret, e.Arg = 1, "" }),
			},
			Edges: []GraphEdge{{0, 1, "program"}, {2, 0, "connect"}, {2, 3, "program"}, {3, 1, "stream"}, {3, 4, "program"}},
			Syncs: []FileSyncs{{Node: "kv1", File: "$PAIN_RUN_DIR/kv1/wal.log", Call: "fdatasync", Syncs: 3}},
		}, {
			ID: "ba9876543210", Rank: 2, Runs: []string{"run-3"},
			Events: []GraphEvent{ev("kv1", "main", 0, "signaled", func(e *GraphEvent) { e.Arg = "SIGKILL" })},
		}},
		Support: []Support{
			{Key: "workload/main[0] connect " + conn + " -> kv1/main[0] accept4 " + conn, Kind: "connect", Runs: 2},
			{Key: "workload/main write " + conn + "@0+12 -> kv1/main read " + conn + "@0+12", Kind: "stream", Runs: 2},
		},
	}
}

func encodeSchedules(t testing.TB, s *Schedules) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteSchedules(&buf, s); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestSchedulesRoundTrip(t *testing.T) {
	want := sampleSchedules()
	data := encodeSchedules(t, want)
	got, err := ReadSchedulesFrom(bytes.NewReader(data), "s.arrows")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip differs:\ngot  %+v\nwant %+v", got, want)
	}
	// Many rows span several batches.
	big := sampleSchedules()
	for i := 0; i < 2*scheduleBatchRows+5; i++ {
		big.Schedules[1].Runs = append(big.Schedules[1].Runs, "r")
	}
	got, err = ReadSchedulesFrom(bytes.NewReader(encodeSchedules(t, big)), "big.arrows")
	if err != nil || !reflect.DeepEqual(got, big) {
		t.Errorf("big round trip: err %v, equal %v", err, reflect.DeepEqual(got, big))
	}
}

func TestSchedulesErrors(t *testing.T) {
	data := encodeSchedules(t, sampleSchedules())
	for _, cut := range []int{len(data) - 1, len(data) - 8, len(data) / 2} {
		_, err := ReadSchedulesFrom(bytes.NewReader(data[:cut]), "cut.arrows")
		if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrNotPain) {
			t.Errorf("cut at %d: err = %v, want ErrTruncated", cut, err)
		}
	}
	trace := writeTrace(t, sampleMeta(), sampleEvents())
	if _, err := ReadSchedulesFrom(bytes.NewReader(trace), "run-1.arrows"); !errors.Is(err, ErrWrongKind) ||
		err.Error() != "run-1.arrows: holds trace, not schedules" {
		t.Errorf("trace read as schedules: %v", err)
	}
	if _, err := NewReader(bytes.NewReader(data), "s.arrows"); !errors.Is(err, ErrWrongKind) ||
		err.Error() != "s.arrows: holds schedules, not a trace" {
		t.Errorf("schedules read as a trace: %v", err)
	}
	// Rows out of place are refused.
	bad := sampleSchedules()
	bad.Schedules[0].Rank = 5
	if _, err := ReadSchedulesFrom(bytes.NewReader(encodeSchedules(t, bad)), "bad.arrows"); !errors.Is(err, ErrCorrupt) {
		t.Errorf("rank 5 first: err = %v, want ErrCorrupt", err)
	}
	bad = sampleSchedules()
	bad.Granularity = "weekly"
	if _, err := ReadSchedulesFrom(bytes.NewReader(encodeSchedules(t, bad)), "bad.arrows"); !errors.Is(err, ErrCorrupt) {
		t.Errorf("granularity weekly: err = %v, want ErrCorrupt", err)
	}
}

func TestSchedulesNewerVersion(t *testing.T) {
	m := sampleSchedules().Meta
	m.Kind = KindSchedules
	m.Extra = map[string]string{"granularity": "message"}
	keys, values := m.pairs()
	for i, k := range keys {
		if k == KeyFormat {
			values[i] = "7"
		}
	}
	md := arrow.NewMetadata(keys, values)
	schema := arrow.NewSchema(schedulesSchema(m).Fields(), &md)
	var buf bytes.Buffer
	iw := ipc.NewWriter(&buf, ipc.WithSchema(schema), ipc.WithZstd())
	iw.Close()
	_, err := ReadSchedulesFrom(&buf, "new.arrows")
	if !errors.Is(err, ErrNewerVersion) || err.Error() != "new.arrows: format version 7 is newer than this tool (3)" {
		t.Errorf("err = %v, want ErrNewerVersion", err)
	}
}

// TestSchedulesGolden keeps a file of each shape schedules files have had
// and the text form in testdata, so a change that breaks old files or the
// text form fails here. Only the newest shape's file is rewritten by
// -update.
func TestSchedulesGolden(t *testing.T) {
	text := filepath.Join("testdata", "schedules.txt")
	var buf bytes.Buffer
	if err := WriteSchedulesText(&buf, sampleSchedules()); err != nil {
		t.Fatal(err)
	}
	golden := []struct {
		file    string
		version int
		lineage bool // unsynced and syncs rows (version 3)
		dur     bool // the dur_ns column (later in version 3)
	}{
		{"schedules-v1.arrows", 1, false, false},
		{"schedules-v2.arrows", 2, false, false},
		{"schedules-v3.arrows", 3, true, false},
		{"schedules-v3-dur.arrows", 3, true, true},
	}
	if *update {
		newest := golden[len(golden)-1].file
		os.WriteFile(filepath.Join("testdata", newest), encodeSchedules(t, sampleSchedules()), 0o644)
		os.WriteFile(text, buf.Bytes(), 0o644)
	}
	for _, g := range golden {
		file := g.file
		got, err := ReadSchedules(filepath.Join("testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		want := sampleSchedules()
		want.Meta.Version = g.version
		if !g.lineage {
			want.Schedules[0].Events[1].Unsynced, want.Schedules[0].Syncs = nil, nil
		}
		if !g.dur {
			want.Schedules[0].Events[3].DurNS = 0
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("golden schedules file %s reads back differently: %+v", file, got)
		}
	}
	want, err := os.ReadFile(text)
	if err != nil {
		t.Fatal(err)
	}
	if buf.String() != string(want) {
		t.Errorf("text form changed (run with -update if intended):\n%s", buf.String())
	}
}

func FuzzSchedules(f *testing.F) {
	data := encodeSchedules(f, sampleSchedules())
	f.Add(data)
	f.Add(data[:len(data)/2])
	f.Add(writeTrace(f, sampleMeta(), sampleEvents()))
	addCorruptSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ReadSchedulesFrom(bytes.NewReader(data), "fuzz.arrows")
		if err != nil {
			if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrNotPain) &&
				!errors.Is(err, ErrNewerVersion) && !errors.Is(err, ErrWrongKind) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			if !strings.HasPrefix(err.Error(), "fuzz.arrows: ") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		// What reads back writes and reads back the same.
		again, err := ReadSchedulesFrom(bytes.NewReader(encodeSchedules(t, s)), "again.arrows")
		if err != nil || !reflect.DeepEqual(again, s) {
			t.Fatalf("re-encoded file differs: %v", err)
		}
	})
}

// TestSchedulesInjected: the plans of injected runs travel in the file,
// each read back with its version checked.
func TestSchedulesInjected(t *testing.T) {
	s := sampleSchedules()
	p := &Plan{V: 1, ID: "p3", Why: "x", Faults: []Fault{{Kind: FaultCrash, Target: Target{Node: "kv1"}}}}
	s.Injected = map[string]*Plan{s.Schedules[0].Runs[0]: p}
	got, err := ReadSchedulesFrom(bytes.NewReader(encodeSchedules(t, s)), "s.arrows")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Injected, s.Injected) || got.Meta.Extra[plansKey] != "" {
		t.Errorf("injected %v, extra %v; want %v and no raw key", got.Injected, got.Meta.Extra, s.Injected)
	}
	newer := strings.Replace(encodeInjected(s.Injected), `"v":1`, `"v":7`, 1)
	if _, err := decodeInjected(newer); !errors.Is(err, ErrNewerVersion) {
		t.Errorf("a newer plan: err = %v, want ErrNewerVersion", err)
	}
	if _, err := decodeInjected(`{"plans":[],"runs":{"r1":"p9"}}`); !errors.Is(err, ErrCorrupt) {
		t.Errorf("a run of a missing plan: err = %v, want ErrCorrupt", err)
	}
}

// The runs' trace files (pain.x.traces) read back as written, and the text
// form lists them.
func TestSchedulesTraces(t *testing.T) {
	want := sampleSchedules()
	want.Traces = map[string][]string{"run-1": {"runs/run-1.arrows"}, "run 2": {"a/run 2.arrows", "b/run 2.arrows"}}
	got, err := ReadSchedulesFrom(bytes.NewReader(encodeSchedules(t, want)), "s.arrows")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip differs:\ngot  %+v\nwant %+v", got.Traces, want.Traces)
	}
	var b bytes.Buffer
	if err := WriteSchedulesText(&b, got); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "# traces \"run 2\": \"a/run 2.arrows\" \"b/run 2.arrows\"\n# traces \"run-1\": \"runs/run-1.arrows\"\n") {
		t.Errorf("text form:\n%s", b.String())
	}
}

// The untied traffic of each schedule (pain.x.untied) reads back as
// written, the text form lists it under its schedule, and a count whose
// fewest exceeds its most is corrupt.
func TestSchedulesUntied(t *testing.T) {
	want := sampleSchedules()
	id := want.Schedules[0].ID
	want.Untied = map[string][]UntiedCount{id: {{Class: "n1>n2:listen0 -> -", Min: 2, Max: 5}}}
	got, err := ReadSchedulesFrom(bytes.NewReader(encodeSchedules(t, want)), "s.arrows")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip differs:\ngot  %+v\nwant %+v", got.Untied, want.Untied)
	}
	var b bytes.Buffer
	if err := WriteSchedulesText(&b, got); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "  untied \"n1>n2:listen0 -> -\" 2-5\n") {
		t.Errorf("text form:\n%s", b.String())
	}
	var out map[string][]UntiedCount
	if err := decodeUntied(`{"a":[{"class":"c","min":3,"max":1}]}`, &out); !errors.Is(err, ErrCorrupt) {
		t.Errorf("min above max: err = %v, want ErrCorrupt", err)
	}
}
