package inject

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/tracer"
)

// traceShell runs /bin/sh -c cmd as node n under a tracer with hook h and
// returns its rows and what it printed.
func traceShell(t *testing.T, h tracer.Hook, cmd string) ([]format.Event, string) {
	t.Helper()
	out, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	tr, err := tracer.New(tracer.Config{Hook: h, Warn: func(m string) { t.Logf("tracer: %s", m) }})
	if err != nil {
		t.Fatal(err)
	}
	var rows []format.Event
	got := make(chan struct{})
	go func() {
		for b := range tr.Events() {
			rows = append(rows, b...)
		}
		close(got)
	}()
	p, err := tr.Start(tracer.Spec{Node: "n", Argv: []string{"/bin/sh", "-c", cmd}, Stdout: out})
	if err != nil {
		tr.Close()
		t.Fatal(err)
	}
	select {
	case <-p.Done():
	case <-time.After(time.Minute): // a failure bound only
		t.Errorf("%s did not finish", cmd)
	}
	tr.Close()
	<-got
	b, _ := os.ReadFile(out.Name())
	return rows, string(b)
}

// TestNotActedNotFired: a drop on a pipe's read cannot act (a pipe has no
// shutdown): the fault is not fired, the note says why, and the read runs
// as it would have.
func TestNotActedNotFired(t *testing.T) {
	progs.Need(t)
	in, err := New(plan(format.Fault{Kind: format.FaultDrop, Target: format.Target{Node: "n", Syscall: "recv"}}), Options{Log: func(m string) { t.Log(m) }})
	if err != nil {
		t.Fatal(err)
	}
	rows, out := traceShell(t, in, "echo hello | cat")
	if out != "hello\n" {
		dump(t, rows)
		t.Errorf("printed %q, want hello", out)
	}
	if w := in.Fired(); len(w) != 0 {
		t.Errorf("fired at %+v, although it could not act", w)
	}
	notes := in.Notes()
	if !slices.ContainsFunc(notes, func(n string) bool {
		return strings.HasPrefix(n, "fault 1 (drop) did not act") && strings.Contains(n, "a pipe cannot be shut down")
	}) {
		t.Errorf("notes %q do not say why the drop did not act", notes)
	}
	if m := marked(rows); len(m) != 0 {
		t.Errorf("rows marked although the fault did not act: %+v", m)
	}
}
