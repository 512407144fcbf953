//go:build linux && amd64

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/boxofpain/pain/internal/ebpfrec"
	"github.com/boxofpain/pain/internal/prereq"
	"github.com/boxofpain/pain/internal/testenv"
	"github.com/boxofpain/pain/internal/tracee"
)

// TestKilled SIGKILLs pain-inject, under each backend, while a plan waits
// for a call of a node whose child runs: every process of the run dies
// with it (under -backend ebpf the node stops at its sends: both leashes
// hold, the ptrace stops and the recorder's).
func TestKilled(t *testing.T) {
	tracee.NeedPtrace(t)
	exe := filepath.Join(testenv.Tools(t, "./cmd/pain-inject"), "pain-inject")
	for _, backend := range []string{"ptrace", "ebpf"} {
		t.Run(backend, func(t *testing.T) {
			if backend == "ebpf" {
				if err := ebpfrec.Available(); err != nil {
					prereq.Missing(t, "%v", err)
				}
				prereq.Root(t, "the eBPF recorder")
			}
			killed(t, exe, backend)
		})
	}
}

// killed is TestKilled under one backend.
func killed(t *testing.T, exe, backend string) {
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "pids")
	procfile := filepath.Join(dir, "Procfile")
	node := "a: sh -c 'sleep 1000 & echo $! $$ > " + pidfile + ".tmp; mv " + pidfile + ".tmp " + pidfile +
		"; while :; do echo x | cat >/dev/null; sleep 0.02; done'\n"
	plans := filepath.Join(dir, "plans.jsonl")
	plan := `{"v":1,"id":"never","faults":[{"kind":"delay","duration":"1ms","target":{"node":"a","syscall":"send","conn":"none"}}],"why":"waits","evidence":{"runs":1,"of_runs":1,"support":1}}` + "\n"
	for f, text := range map[string]string{procfile: node, plans: plan} {
		if err := os.WriteFile(f, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var stderr strings.Builder
	cmd := exec.Command(exe, "-backend", backend, "-plan", plans, "-o", filepath.Join(dir, "run.arrows"),
		"-f", procfile, "-w", "sleep 1000", "-timeout", "5m")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var pids []int
	for deadline := time.Now().Add(time.Minute); len(pids) == 0; time.Sleep(10 * time.Millisecond) {
		if b, err := os.ReadFile(pidfile); err == nil {
			for _, f := range strings.Fields(string(b)) {
				var p int
				fmt.Sscan(f, &p)
				pids = append(pids, p)
			}
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatal("the node never wrote its pids")
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	if strings.Contains(stderr.String(), "full ptrace") {
		t.Errorf("the plan was run under full ptrace:\n%s", stderr.String())
	}
	for _, pid := range pids {
		for deadline := time.Now().Add(time.Minute); alive(pid); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				syscall.Kill(pid, syscall.SIGKILL)
				t.Fatalf("process %d survived pain-inject -backend %s", pid, backend)
			}
		}
	}
}

// alive reports whether pid runs (a zombie does not).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(b), ')')
	return i < 0 || i+2 >= len(b) || b[i+2] != 'Z'
}
