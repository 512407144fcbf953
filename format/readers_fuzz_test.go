package format

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// FuzzReadResults: a results file (pain-plan -results reads whatever it is
// given) is read or refused with an error naming the file; what reads back
// writes and reads back the same.
func FuzzReadResults(f *testing.F) {
	check := 1
	var b bytes.Buffer
	WriteResult(&b, &Result{V: 1, Plan: "p1", Fired: true, Where: []Fired{{Node: "kv1", Thread: "main", Seq: 3, Syscall: "write"}},
		Check: &check, Verdict: VerdictBug, Trace: "p1.arrows", WallMS: 12, Note: "x", Faults: []string{"drop"}})
	WriteResult(&b, &Result{V: 1, Plan: "p2", Verdict: VerdictInterrupted})
	f.Add(b.String())
	f.Add(`{"v":9,"plan":"p"}`)
	f.Add("{\"v\":1}\n\n{")
	f.Fuzz(func(t *testing.T, s string) {
		rs, err := ReadResults(strings.NewReader(s), "r.jsonl")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "r.jsonl") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		var out bytes.Buffer
		for i := range rs {
			if err := WriteResult(&out, &rs[i]); err != nil {
				t.Fatal(err)
			}
		}
		again, err := ReadResults(&out, "again.jsonl")
		if err != nil || !reflect.DeepEqual(again, rs) {
			t.Fatalf("results read back differently (%v):\n%+v\n%+v", err, rs, again)
		}
	})
}

// FuzzReadText: a trace in text form (pain-track reads it) is read or
// refused with an error naming the file, never a panic.
func FuzzReadText(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("testdata", "sample.txt")); err == nil {
		f.Add(string(b))
	}
	var b bytes.Buffer
	WriteTextHeader(&b, sampleMeta())
	for _, e := range sampleEvents() {
		WriteText(&b, &e)
	}
	f.Add(b.String())
	f.Add("# pain trace v9\n")
	f.Add("# pain schedules v1\n")
	f.Fuzz(func(t *testing.T, s string) {
		_, _, err := ReadText(strings.NewReader(s), "t.txt")
		if err != nil && !strings.HasPrefix(err.Error(), "t.txt") {
			t.Fatalf("error does not name the file: %v", err)
		}
	})
}
