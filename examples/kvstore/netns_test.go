package kvstore_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/boxofpain/pain/internal/prereq"
	"github.com/boxofpain/pain/internal/testenv"
)

// needRoot skips where network namespaces cannot be made, but fails in CI.
func needRoot(t *testing.T) {
	t.Helper()
	prereq.Root(t, "-netns (CAP_SYS_ADMIN)")
}

// freeStore writes into dir a Procfile of the store on three free loopback
// ports, the primary with extra flags, and returns it with the address of
// node i (0 the primary, 1 and 2 the backups).
func freeStore(t *testing.T, dir, primaryFlags string) (procfile string, addr func(int) string) {
	t.Helper()
	p := testenv.FreePorts(t, 3)
	addr = func(i int) string { return loopback(p[i]) }
	procfile = filepath.Join(dir, "Procfile")
	text := fmt.Sprintf("primary: %s/kvnode -role primary -listen %s -backups %s,%s%s\n"+
		"backup1: %[1]s/kvnode -role backup -listen %[3]s\nbackup2: %[1]s/kvnode -role backup -listen %[4]s\n",
		bin, addr(0), addr(1), addr(2), primaryFlags)
	if err := os.WriteFile(procfile, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return procfile, addr
}

// storeProcfile writes the store's Procfile (fixed ports 7101-7103) with
// this test's binaries.
func storeProcfile(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "Procfile")
	kvnode := filepath.Join(bin, "kvnode")
	text := fmt.Sprintf("primary: %s -role primary -listen 127.0.0.1:7101 -backups 127.0.0.1:7102,127.0.0.1:7103\n"+
		"backup1: %[1]s -role backup -listen 127.0.0.1:7102\nbackup2: %[1]s -role backup -listen 127.0.0.1:7103\n", kvnode)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// inNetns returns the pids of the processes any thread of which is in
// network namespace ns ("net:[4026532008]").
func inNetns(ns string) []int {
	var pids []int
	tasks, _ := filepath.Glob("/proc/[0-9]*/task/[0-9]*/ns/net")
	for _, p := range tasks {
		if l, err := os.Readlink(p); err == nil && l == ns {
			var pid int
			fmt.Sscanf(strings.TrimPrefix(p, "/proc/"), "%d", &pid)
			pids = append(pids, pid)
		}
	}
	return pids
}

// waitFile waits until path exists and returns its content.
func waitFile(t *testing.T, path string, done <-chan struct{}) string {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		if b, err := os.ReadFile(path); err == nil && len(b) > 0 && b[len(b)-1] == '\n' {
			return strings.TrimSpace(string(b))
		}
		select {
		case <-done:
			t.Fatalf("the run ended before %s appeared", path)
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("%s never appeared", path)
	return ""
}

// waitGone waits until no process is left in network namespace ns.
func waitGone(t *testing.T, ns string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		if len(inNetns(ns)) == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("processes %v are still in %s", inNetns(ns), ns)
}

// TestSamePortsAtOnce runs two traced runs of the store with -netns on the
// same ports at the same moment: each run's workload waits until the other
// run's nodes are up and its workload started, so both systems listen on
// 127.0.0.1:7101-7103 at once. Both must pass, each in a namespace of its
// own with a run folder of its own, and nothing may be left in either
// namespace afterwards.
func TestSamePortsAtOnce(t *testing.T) {
	needRoot(t)
	trace, procfile := filepath.Join(bin, "pain-trace"), storeProcfile(t)
	shared := t.TempDir()
	t.Setenv("TMPDIR", t.TempDir()) // the runs' temporary folders
	type run struct {
		cmd    *exec.Cmd
		stderr bytes.Buffer
		done   chan struct{}
	}
	runs := map[string]*run{}
	for me, other := range map[string]string{"a": "b", "b": "a"} {
		w := fmt.Sprintf(`readlink /proc/self/ns/net > %[1]s/ns-%[2]s; echo "$PAIN_RUN_DIR" > %[1]s/dir-%[2]s; `+
			`while [ ! -e %[1]s/dir-%[3]s ]; do sleep 0.02; done; `+
			`%[4]s/kvload -primary 127.0.0.1:7101 -n 5 -acked "$PAIN_RUN_DIR/acked.txt"`, shared, me, other, bin)
		r := &run{done: make(chan struct{})}
		r.cmd = exec.Command(trace, "-netns", "-run", "run-"+me, "-o", filepath.Join(shared, me+".arrows"),
			"-f", procfile, "-w", w,
			"-check", bin+`/kvcheck -backups 127.0.0.1:7102,127.0.0.1:7103 -acked "$PAIN_RUN_DIR/acked.txt"`)
		r.cmd.Stderr = &r.stderr
		if err := r.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		runs[me] = r
	}
	errs := map[string]error{}
	for _, me := range []string{"a", "b"} {
		errs[me] = runs[me].cmd.Wait()
		close(runs[me].done)
	}
	mine, _ := os.Readlink("/proc/self/ns/net")
	seen := map[string]string{}
	for _, me := range []string{"a", "b"} {
		r := runs[me]
		if errs[me] != nil || !strings.Contains(r.stderr.String(), "check passed") {
			t.Errorf("run %s: %v\n%s", me, errs[me], r.stderr.String())
			continue
		}
		ns, dir := waitFile(t, filepath.Join(shared, "ns-"+me), r.done), waitFile(t, filepath.Join(shared, "dir-"+me), r.done)
		if ns == mine || seen[ns] != "" {
			t.Errorf("run %s ran in namespace %s (the test's %s, the other run's %s)", me, ns, mine, seen[ns])
		}
		if seen[dir] != "" {
			t.Errorf("runs %s and %s share the run folder %s", me, seen[dir], dir)
		}
		seen[ns], seen[dir] = me, me
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("run %s: its folder %s is still there (%v)", me, dir, err)
		}
		waitGone(t, ns)
	}
}

// TestNetnsKilled kills pain-trace -netns while its workload runs: the
// run's processes die with it, and with them its namespace.
func TestNetnsKilled(t *testing.T) {
	needRoot(t)
	trace, procfile := filepath.Join(bin, "pain-trace"), storeProcfile(t)
	shared := t.TempDir()
	t.Setenv("TMPDIR", t.TempDir())
	w := fmt.Sprintf(`readlink /proc/self/ns/net > %[1]s/ns; while :; do sleep 1; done`, shared)
	cmd := exec.Command(trace, "-netns", "-o", filepath.Join(shared, "run.arrows"), "-f", procfile, "-w", w)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	ns := waitFile(t, filepath.Join(shared, "ns"), done)
	if pids := inNetns(ns); len(pids) < 4 { // three nodes and the workload's shell, at least
		t.Errorf("only %v in the run's namespace %s", pids, ns)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	<-done
	waitGone(t, ns)
}
