package inject

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/tracer"
)

// TestPauseWholeNode: a node started through a shell (sh -c 'server; :')
// whose server forks workers is paused whole: the shell, the server and
// each worker are stopped, and the note says how many. Paused once every
// worker is forked (at the server's wait for them), all 2+workers are; paused
// at the first worker's accept, while the server may still be forking,
// the processes born since the signal are stopped too (the tracer stops
// them as they appear).
func TestPauseWholeNode(t *testing.T) {
	progs.Need(t)
	const workers = 8
	for _, tc := range []struct {
		name   string
		target format.Target
		exact  bool
	}{
		{"forked", format.Target{Node: "srv", Thread: "main.1", Syscall: "wait4"}, true},
		{"forking", format.Target{Node: "srv", Syscall: "accept"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tree, notes := pauseTree(t, tc.target, workers)
			var n int
			if len(notes) != 1 || !scan(notes[0], "pause stopped %d processes of srv", &n) {
				t.Fatalf("notes %q, want one saying how many processes the pause stopped", notes)
			}
			switch {
			case tc.exact && (len(tree) != 2+workers || n != len(tree)):
				t.Errorf("%d processes stopped, %d in the node, want %d (shell, server, %d workers)", n, len(tree), 2+workers, workers)
			case n < 2 || n > len(tree):
				t.Errorf("%d processes stopped at first, %d in the node now", n, len(tree))
			}
		})
	}
}

// pauseTree runs the prefork server through a shell, pauses it at target
// for an hour, waits until every process of its tree is stopped, and
// returns them and the injector's notes.
func pauseTree(t *testing.T, target format.Target, workers int) ([]int, []string) {
	in, err := New(plan(format.Fault{Kind: format.FaultPause, Duration: format.Duration(time.Hour), Target: target}),
		Options{Log: func(m string) { t.Log(m) }})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := tracer.New(tracer.Config{Hook: in, Warn: func(m string) { t.Logf("tracer: %s", m) }})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for range tr.Events() {
		}
	}()
	defer tr.Close()
	cmd := fmt.Sprintf("%s prefork %s %d; :", progs.Path("tn"), freePort(t), workers)
	p, err := tr.Start(tracer.Spec{Node: "srv", Argv: []string{"/bin/sh", "-c", cmd}})
	if err != nil {
		t.Fatal(err)
	}
	var tree []int
	stopped := func() bool {
		if len(in.Fired()) == 0 {
			return false
		}
		// Every process the tracer knows in the node, as the kernel
		// lists them, is stopped.
		tree = descendants(p.Pid)
		if len(tree) != tr.NodeLive("srv") {
			return false
		}
		for _, pid := range tree {
			// 't': a group stop seen by the tracer (PTRACE_LISTEN) reads
			// as a tracing stop.
			if s := state(pid); s != 'T' && s != 't' {
				return false
			}
		}
		return true
	}
	for end := time.Now().Add(time.Minute); !stopped(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(end) { // a failure bound only
			var states []string
			for _, pid := range tree {
				states = append(states, fmt.Sprintf("%d:%c", pid, state(pid)))
			}
			t.Fatalf("fired %v; not every process of the node stopped within a minute: %s", in.Fired(), strings.Join(states, " "))
		}
	}
	return tree, in.Notes()
}

func scan(s, format string, args ...any) bool {
	n, err := fmt.Sscanf(s, format, args...)
	return err == nil && n == len(args)
}

// descendants returns pid and every process below it, from the kernel's
// lists of each thread's children.
func descendants(pid int) []int {
	out := []int{pid}
	for i := 0; i < len(out); i++ {
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", out[i]))
		for _, f := range tasks {
			b, _ := os.ReadFile(f)
			for _, w := range strings.Fields(string(b)) {
				if k, err := strconv.Atoi(w); err == nil {
					out = append(out, k)
				}
			}
		}
	}
	return out
}

// stat returns the fields of /proc/PID/stat after the command name.
func stat(pid int) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	i := bytes.LastIndexByte(b, ')')
	if err != nil || i < 0 {
		return nil
	}
	return strings.Fields(string(b[i+1:]))
}

func state(pid int) byte {
	if f := stat(pid); len(f) > 0 {
		return f[0][0]
	}
	return '?'
}
