package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// inputs are the hand-written traces in text form: three runs of one
// exchange (other pids, fds, ports and times; reads split differently), one
// where the check was refused, and one of another system.
var inputs = []string{"testdata/run-a.txt", "testdata/run-b.txt", "testdata/run-c.txt", "testdata/run-d.txt", "testdata/procs.txt"}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s changed (run go test -update if intended):\n%s", path, got)
	}
}

func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"summary.txt", nil},
		{"summary-syscall.txt", []string{"-granularity", "syscall"}},
		{"summary-class.txt", []string{"-granularity", "class"}},
		{"summary.json", []string{"-json"}},
		{"schedules.txt", []string{"-text"}},
	} {
		var stdout, stderr bytes.Buffer
		if err := run(append(tc.args, inputs...), nil, &stdout, &stderr); err != nil {
			t.Fatalf("%s: %v\n%s", tc.golden, err, stderr.String())
		}
		if strings.Contains(stderr.String(), "warning") {
			t.Errorf("%s: unexpected stderr %q", tc.golden, stderr.String())
		}
		golden(t, tc.golden, stdout.Bytes())
	}
}

func TestGoldenDot(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	if err := run(append([]string{"-dot", dir, "-top", "2"}, inputs...), nil, &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	files, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, f.Name())
		data, err := os.ReadFile(filepath.Join(dir, f.Name()))
		if err != nil {
			t.Fatal(err)
		}
		golden(t, filepath.Join("dot", f.Name()), data)
	}
	want := "schedule-1-1ead99038c89.dot schedule-1-1ead99038c89.trace.json schedule-2-6fcc865e266b.dot"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("-dot wrote %s, want %s", got, want)
	}
}
