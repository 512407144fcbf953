package format

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/ipc"
	"github.com/apache/arrow/go/v17/arrow/memory"
)

var update = flag.Bool("update", false, "rewrite golden files")

func sampleMeta() Meta {
	return Meta{
		Version:  Version,
		Kind:     KindTrace,
		Tool:     "pain-trace test",
		Run:      "run-0001",
		Host:     "box",
		Kernel:   "6.1.0",
		Start:    time.Date(2026, 11, 25, 12, 0, 0, 5, time.UTC),
		Commands: map[string]string{"kv1": "./kvnode -role primary", "workload": "./client put 3"},
	}
}

func sampleEvents() []Event {
	return []Event{
		{TimeNS: 1000, Node: "kv1", Thread: "main", Seq: 0, PID: 40, TID: 40, Syscall: EventStart, FD: -1, Offset: -1, Arg: "/bin/kvnode"},
		{TimeNS: 2500, DurNS: 700, Node: "kv1", Thread: "main", Seq: 1, PID: 40, TID: 40, Syscall: "listen", FD: 3, FDKind: KindTCP, Local: "kv1:listen0", LocalAddr: "127.0.0.1:7001", Offset: -1},
		{TimeNS: 9000, Node: "client", Thread: "main", Seq: 2, PID: 41, TID: 41, Syscall: "connect", FD: 3, FDKind: KindTCP, Local: "client:main:s0", Peer: "kv1:listen0", LocalAddr: "127.0.0.1:40112", PeerAddr: "127.0.0.1:7001", Conn: "client:main:s0>kv1:listen0", Offset: -1},
		{TimeNS: 9100, DurNS: 40, Node: "client", Thread: "main", Seq: 3, PID: 41, TID: 41, Syscall: "sendto", FD: 3, FDKind: KindTCP, Local: "client:main:s0", Peer: "kv1:listen0", Conn: "client:main:s0>kv1:listen0", Offset: 0, Ret: 12, PayloadHash: 0x9a3cb1f00d, Payload: []byte("put k1 v1\n")},
		{TimeNS: 9200, DurNS: 8050, Node: "kv1", Thread: "main.1", Seq: 7, PID: 40, TID: 43, Syscall: "read", FD: 5, FDKind: KindTCP, Conn: "client:main:s0>kv1:listen0", Offset: 0, Ret: -1, Errno: "ECONNRESET"},
		{TimeNS: 1_500_000_000, Node: "kv 2", Thread: "main", Seq: 0, PID: 44, TID: 44, Syscall: EventSignaled, FD: -1, Offset: -1, Arg: `SIGKILL "by plan"`, Fault: "p1:crash"},
	}
}

func writeTrace(t testing.TB, m Meta, evs []Event) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, m)
	if err != nil {
		t.Fatal(err)
	}
	for i := range evs {
		if err := w.Write(&evs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func readAll(data []byte, name string) (Meta, []Event, error) {
	r, err := NewReader(bytes.NewReader(data), name)
	if err != nil {
		return Meta{}, nil, err
	}
	defer r.Close()
	var evs []Event
	for {
		var e Event
		if err := r.Next(&e); err != nil {
			if err == io.EOF {
				err = nil
			}
			return r.Meta(), evs, err
		}
		evs = append(evs, e)
	}
}

func TestRoundTrip(t *testing.T) {
	want := sampleEvents()
	m, got, err := readAll(writeTrace(t, sampleMeta(), want), "t.arrows")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rows differ:\ngot  %+v\nwant %+v", got, want)
	}
	if !reflect.DeepEqual(m, sampleMeta()) {
		t.Errorf("meta differs:\ngot  %+v\nwant %+v", m, sampleMeta())
	}
}

// manyEvents makes n rows spanning several batches.
func manyEvents(n int) []Event {
	evs := make([]Event, n)
	for i := range evs {
		evs[i] = Event{TimeNS: int64(i) * 1000, Node: "n", Thread: "main", Seq: int64(i), Syscall: "write", FD: 4, FDKind: KindPipe, Conn: "n:main:s0", Offset: int64(i) * 8, Ret: 8, PayloadHash: uint64(i)}
	}
	return evs
}

func TestTruncated(t *testing.T) {
	evs := manyEvents(3*BatchRows + 17)
	full := writeTrace(t, sampleMeta(), evs)
	// Cut at many points: the reader must return a prefix of whole batches,
	// then ErrTruncated, never a panic or a wrong row.
	for _, cut := range []int{len(full) - 1, len(full) - 8, len(full) * 3 / 4, len(full) / 2, len(full) / 5} {
		_, got, err := readAll(full[:cut], "cut.arrows")
		if !errors.Is(err, ErrTruncated) {
			t.Errorf("cut at %d: err = %v, want ErrTruncated", cut, err)
			continue
		}
		if len(got)%BatchRows != 0 && len(got) != len(evs) {
			t.Errorf("cut at %d: %d rows is not whole batches", cut, len(got))
		}
		if !reflect.DeepEqual(got, evs[:len(got)]) {
			for i := range got {
				if !reflect.DeepEqual(got[i], evs[i]) {
					t.Errorf("cut at %d: row %d = %+v, want %+v", cut, i, got[i], evs[i])
					break
				}
			}
		}
		if !strings.Contains(err.Error(), "cut.arrows: trace cut short") {
			t.Errorf("cut at %d: message %q does not name the file", cut, err)
		}
	}
	if _, _, err := readAll(full[:10], "head.arrows"); !errors.Is(err, ErrNotPain) {
		t.Errorf("cut inside the schema: err = %v, want ErrNotPain", err)
	}
}

// TestFlushedPrefix checks that what a killed tracer leaves behind (flushed
// batches, no end marker) reads back with a truncation notice.
func TestFlushedPrefix(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, sampleMeta())
	if err != nil {
		t.Fatal(err)
	}
	evs := sampleEvents()
	for i := range evs {
		w.Write(&evs[i])
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	_, got, err := readAll(buf.Bytes(), "killed.arrows")
	if !errors.Is(err, ErrTruncated) || len(got) != len(evs) {
		t.Fatalf("got %d rows, err %v; want %d rows and ErrTruncated", len(got), err, len(evs))
	}
}

func TestNewerVersion(t *testing.T) {
	m := sampleMeta()
	schema := traceSchema(m)
	md := schema.Metadata()
	keys, values := md.Keys(), append([]string(nil), md.Values()...)
	for i, k := range keys {
		if k == KeyFormat {
			values[i] = strconv.Itoa(Version + 1)
		}
	}
	var buf bytes.Buffer
	s2 := traceSchemaWith(keys, values)
	iw := ipc.NewWriter(&buf, ipc.WithSchema(s2), ipc.WithZstd())
	b := array.NewRecordBuilder(memory.NewGoAllocator(), s2)
	rec := b.NewRecord()
	iw.Write(rec)
	iw.Close()
	_, err := NewReader(&buf, "run-7.arrows")
	if !errors.Is(err, ErrNewerVersion) {
		t.Fatalf("err = %v, want ErrNewerVersion", err)
	}
	if want := fmt.Sprintf("run-7.arrows: format version %d is newer than this tool (%d)", Version+1, Version); err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
}

func TestNotATrace(t *testing.T) {
	for name, data := range map[string][]byte{
		"empty.arrows": nil,
		"text.arrows":  []byte("hello, this is not arrow at all\n"),
	} {
		if _, err := NewReader(bytes.NewReader(data), name); !errors.Is(err, ErrNotPain) || !strings.HasPrefix(err.Error(), name+": ") {
			t.Errorf("%s: err = %v, want ErrNotPain naming the file", name, err)
		}
	}
}

func TestDocNamesEveryColumn(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range traceColumns {
		if !strings.Contains(string(doc), "//\t"+c.name+" ") {
			t.Errorf("doc.go does not document column %s", c.name)
		}
	}
}

func TestTextRoundTrip(t *testing.T) {
	for _, e := range sampleEvents() {
		line := string(AppendText(nil, &e))
		got, err := ParseText(line)
		if err != nil {
			t.Errorf("ParseText(%q): %v", line, err)
			continue
		}
		if !reflect.DeepEqual(got, e) {
			t.Errorf("ParseText(%q)\ngot  %+v\nwant %+v", line, got, e)
		}
	}
}

func TestParseTextErrors(t *testing.T) {
	for _, line := range []string{
		"0.1 kv1 main #0 write",                            // time without 9 decimals
		"0.000000001 kv1 main 0 write",                     // seq without #
		"0.000000001 kv1 main #0",                          // no syscall
		"0.000000001 kv1 main #0 write fd",                 // not key=value
		"0.000000001 kv1 main #0 write x=1",                // unknown key
		"0.000000001 kv1 main #0 write ret=1 fd=3",         // out of order
		"0.000000001 kv1 main #0 write fd=99999999999",     // overflows int32
		`0.000000001 kv1 main #0 write peer="unterminated`, // bad quote
	} {
		if _, err := ParseText(line); err == nil {
			t.Errorf("ParseText(%q) succeeded, want an error", line)
		}
	}
}

// TestGolden keeps the text form stable: users diff it and tests read it.
func TestGolden(t *testing.T) {
	var buf bytes.Buffer
	WriteTextHeader(&buf, sampleMeta())
	evs := sampleEvents()
	for i := range evs {
		WriteText(&buf, &evs[i])
	}
	golden := filepath.Join("testdata", "sample.txt")
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if buf.String() != string(want) {
		t.Errorf("text form changed (run with -update if intended):\n%s", buf.String())
	}
	m, got, err := ReadText(bytes.NewReader(want), golden)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, evs) || !reflect.DeepEqual(m, sampleMeta()) {
		t.Errorf("ReadText(golden) does not give back the rows and metadata")
	}
	if m2, got2, err := ReadTextFile(golden); err != nil || !reflect.DeepEqual(got2, evs) || !reflect.DeepEqual(m2, m) {
		t.Errorf("ReadTextFile(golden) differs from ReadText: %v", err)
	}
}

// TestArrowGolden reads trace files checked into testdata, so a change that
// breaks reading old files fails here: sample-v1.arrows was written by
// format version 1 (no dur_ns, no checksums), sample-v2.arrows by version
// 2; neither is ever rewritten: -update writes the current version's.
func TestArrowGolden(t *testing.T) {
	if *update {
		cur := filepath.Join("testdata", fmt.Sprintf("sample-v%d.arrows", Version))
		os.WriteFile(cur, writeTrace(t, sampleMeta(), sampleEvents()), 0o644)
	}
	v1Events := sampleEvents()
	for i := range v1Events {
		v1Events[i].DurNS = 0
	}
	for _, c := range []struct {
		file    string
		version int
		want    []Event
	}{
		{"sample-v1.arrows", 1, v1Events},
		{"sample-v2.arrows", 2, sampleEvents()},
		{"sample-v3.arrows", 3, sampleEvents()},
	} {
		m, got, err := ReadFile(filepath.Join("testdata", c.file))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, c.want) || m.Run != "run-0001" || m.Version != c.version {
			t.Errorf("%s reads back differently (version %d): %+v", c.file, m.Version, got)
		}
		data, _ := os.ReadFile(filepath.Join("testdata", c.file))
		if got, err := readBatches(data, c.file); err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s read by batches differs (%v): %+v", c.file, err, got)
		}
	}
}

func FuzzReader(f *testing.F) {
	f.Add(writeTrace(f, sampleMeta(), sampleEvents()))
	full := writeTrace(f, sampleMeta(), manyEvents(100))
	f.Add(full[:len(full)/2])
	f.Add([]byte{})
	addCorruptSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		_, evs, err := readAll(data, "fuzz.arrows")
		if err != nil && !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrNotPain) &&
			!errors.Is(err, ErrNewerVersion) && !errors.Is(err, ErrWrongKind) {
			t.Fatalf("error wraps no sentinel: %v", err)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "fuzz.arrows: ") {
			t.Fatalf("error does not name the file: %v", err)
		}
		_ = evs
	})
}

func FuzzParseText(f *testing.F) {
	for _, e := range sampleEvents() {
		f.Add(string(AppendText(nil, &e)))
	}
	f.Fuzz(func(t *testing.T, line string) {
		e, err := ParseText(line)
		if err != nil {
			return
		}
		again, err := ParseText(string(AppendText(nil, &e)))
		if err != nil || !reflect.DeepEqual(again, e) {
			t.Fatalf("%q parsed to %+v, which prints as a line that reads back as %+v (%v)", line, e, again, err)
		}
	})
}

// traceSchemaWith builds the trace schema with the given metadata pairs.
func traceSchemaWith(keys, values []string) *arrow.Schema {
	s := traceSchema(Meta{})
	md := arrow.NewMetadata(keys, values)
	return arrow.NewSchema(s.Fields(), &md)
}

// TestDictionaryPerBatch writes more distinct names than a 16-bit dictionary
// index can hold: each batch must get a dictionary of its own.
func TestDictionaryPerBatch(t *testing.T) {
	evs := make([]Event, 9*BatchRows)
	for i := range evs {
		evs[i] = Event{Node: fmt.Sprintf("node-%d", i), Thread: "main", Seq: int64(i), Syscall: "write", FD: -1, Offset: -1}
	}
	_, got, err := readAll(writeTrace(t, sampleMeta(), evs), "many-names.arrows")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, evs) {
		t.Errorf("rows with %d distinct names read back differently", len(evs))
	}
}
