package track

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/boxofpain/pain/internal/hb"
)

// TestTeardownCut: runs that did the same thing until the check ended,
// then ended differently (the node read the check's end of file before or
// after the launcher's teardown mark, read its peer's end of file before
// its SIGTERM, or was killed first), are one schedule; without the
// teardown mark the node killed first is a schedule of its own.
func TestTeardownCut(t *testing.T) {
	base, err := os.ReadFile("../../cmd/pain-track/testdata/run-a.txt")
	if err != nil {
		t.Fatal(err)
	}
	const (
		mark  = "0.000030000 - - #0 teardown ret=0\n"
		eof   = "0.000027000 kv1 main #14 read pid=10 tid=10 fd=5 kind=tcp local=kv1:main:s2 peer=check:main:s0 conn=check:main:s0>kv1:listen0 off=4 ret=0\n"
		close = "0.000028000 kv1 main #15 close pid=10 tid=10 fd=5 kind=tcp local=kv1:main:s2 peer=check:main:s0 conn=check:main:s0>kv1:listen0 ret=0\n"
		exit  = "0.000031000 kv1 main #16 exited pid=10 tid=10 ret=0\n"
		kill  = "0.000031000 kv1 main #14 signaled pid=10 tid=10 ret=0 arg=SIGTERM\n"
	)
	runs := [][]string{{eof, close, mark, exit}, {eof, mark, close, exit}, {mark, eof, close, exit}, {mark, kill}}
	for _, tc := range []struct {
		mark string
		want int
	}{{mark, 1}, {"", 2}} {
		dir := t.TempDir()
		var paths []string
		for i, tail := range runs {
			name := "run-" + string(rune('w'+i))
			run := strings.Replace(string(base), `"run-a"`, `"`+name+`"`, 1) + strings.ReplaceAll(strings.Join(tail, ""), mark, tc.mark)
			p := filepath.Join(dir, name+".txt")
			if err := os.WriteFile(p, []byte(run), 0o644); err != nil {
				t.Fatal(err)
			}
			paths = append(paths, p)
		}
		tr := newTracker(hb.Message, func(m string) { t.Error(m) })
		if err := tr.addFiles(paths); err != nil {
			t.Fatal(err)
		}
		if got := len(tr.set.Ranking()); got != tc.want {
			t.Errorf("teardown mark %q: %d schedules, want %d", strings.TrimSpace(tc.mark), got, tc.want)
		}
	}
}

// TestTeardownWorkloadEnd: with no check, the workload's last close races
// with the teardown mark: the node read its end of file and closed before
// the mark, read it before and closed after, or saw it only after. One
// schedule (TestEndToEndDeterministic's second schedule was the second
// kind).
func TestTeardownWorkloadEnd(t *testing.T) {
	base, err := os.ReadFile("../../cmd/pain-track/testdata/run-a.txt")
	if err != nil {
		t.Fatal(err)
	}
	const (
		mark  = "0.000030000 - - #0 teardown ret=0\n"
		eof   = "0.000016000 kv1 main #9 read pid=10 tid=10 fd=4 kind=tcp local=kv1:main:s1 peer=workload:main:s0 conn=workload:main:s0>kv1:listen0 off=12 ret=0\n"
		close = "0.000017000 kv1 main #10 close pid=10 tid=10 fd=4 kind=tcp local=kv1:main:s1 peer=workload:main:s0 conn=workload:main:s0>kv1:listen0 ret=0\n"
		exit  = "0.000031000 kv1 main #11 exited pid=10 tid=10 ret=0\n"
	)
	head, _, ok := strings.Cut(string(base), eof)
	if !ok {
		t.Fatal("run-a.txt has no end of file read by kv1")
	}
	dir := t.TempDir()
	var paths []string
	for i, tail := range [][]string{{eof, close, mark, exit}, {eof, mark, close, exit}, {mark, eof, close, exit}} {
		name := "run-" + string(rune('w'+i))
		run := strings.Replace(head, `"run-a"`, `"`+name+`"`, 1) + strings.Join(tail, "")
		p := filepath.Join(dir, name+".txt")
		if err := os.WriteFile(p, []byte(run), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	tr := newTracker(hb.Message, func(m string) { t.Error(m) })
	if err := tr.addFiles(paths); err != nil {
		t.Fatal(err)
	}
	if got := len(tr.set.Ranking()); got != 1 {
		t.Errorf("%d schedules, want 1", got)
	}
}
