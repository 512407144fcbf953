package kvstore_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/boxofpain/pain/internal/prereq"
)

// host is a network and UTS namespace of the test's own, held by a process
// that does nothing else: when it dies, the namespace goes, and with it
// any veth end inside.
type host struct {
	name   string
	holder *exec.Cmd
	ns     string // /proc/PID/ns/net
}

// newHost makes a host named name (its hostname, so pain-trace's host
// metadata) with its loopback up.
func newHost(t *testing.T, name string) *host {
	t.Helper()
	cmd := exec.Command("unshare", "--net", "--uts", "sleep", "infinity")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &host{name: name, holder: cmd, ns: fmt.Sprintf("/proc/%d/ns/net", cmd.Process.Pid)}
	t.Cleanup(func() { h.stop(t) })
	mine, _ := os.Readlink("/proc/self/ns/net")
	for deadline := time.Now().Add(10 * time.Second); ; {
		if l, err := os.Readlink(h.ns); err == nil && l != mine {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: unshare never made its namespace", name)
		}
		time.Sleep(5 * time.Millisecond)
	}
	h.sh(t, "hostname "+name+" && ip link set lo up")
	return h
}

// id is the identity of the host's network namespace ("net:[...]").
func (h *host) id(t *testing.T) string {
	l, err := os.Readlink(h.ns)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// cmd is a command run inside the host's namespaces.
func (h *host) cmd(argv ...string) *exec.Cmd {
	pid := fmt.Sprint(h.holder.Process.Pid)
	return exec.Command("nsenter", append([]string{"-t", pid, "-n", "-u", "--"}, argv...)...)
}

func (h *host) sh(t *testing.T, script string) {
	t.Helper()
	if out, err := h.cmd("sh", "-c", script).CombinedOutput(); err != nil {
		t.Fatalf("%s: %s: %v\n%s", h.name, script, err, out)
	}
}

// stop kills the holder; nothing else may be left in the namespace.
func (h *host) stop(t *testing.T) {
	ns, err := os.Readlink(h.ns)
	h.holder.Process.Kill()
	h.holder.Wait()
	if err == nil {
		waitGone(t, ns)
	}
}

// Two hosts of the store: the primary on host-a, the backups, the
// workload and the check on host-b; or everything on one host with both
// addresses. 198.18.0.0/15 is set aside for benchmarks and exists only
// inside the test's namespaces.
const (
	// The primary's wait for a backup is a minute, not its 2s default: on a
	// busy machine a slow reply must not time out and give another schedule.
	procfileA = "primary: exec $BIN/kvnode -role primary -timeout 1m -listen 198.18.0.1:7101 -backups 198.18.0.2:7102,198.18.0.2:7103\n"
	procfileB = "backup1: exec $BIN/kvnode -role backup -listen 198.18.0.2:7102\n" +
		"backup2: exec $BIN/kvnode -role backup -listen 198.18.0.2:7103\n"
	workload = "exec $BIN/kvload -primary 198.18.0.1:7101 -n 5 -acked $PAIN_RUN_DIR/acked.txt"
	check    = "exec $BIN/kvcheck -backups 198.18.0.2:7102,198.18.0.2:7103 -acked $PAIN_RUN_DIR/acked.txt"
)

var scheduleLine = regexp.MustCompile(`(?m)^(\d+) runs?, (\d+) schedules?.*$[\s\S]*?^schedule 1 ([0-9a-f]+): `)

// track runs pain-track on files and returns the runs, the schedules and
// the id of the first schedule.
func track(t *testing.T, tools string, files ...string) (runs, schedules, id string) {
	t.Helper()
	out, err := exec.Command(filepath.Join(tools, "pain-track"), files...).CombinedOutput()
	if err != nil {
		t.Fatalf("pain-track %v: %v\n%s", files, err, out)
	}
	m := scheduleLine.FindSubmatch(out)
	if m == nil {
		t.Fatalf("pain-track %v: no schedule in\n%s", files, out)
	}
	return string(m[1]), string(m[2]), string(m[3])
}

// TestHostsAsNamespaces runs the store across two hosts, each a network
// namespace joined to the other by a veth pair, each traced by a
// pain-trace of its own under the same run name (host-a holds its primary
// until host-b's workload and check are done). pain-track must join the two
// parts by the connections' endpoints and byte offsets into one run with a
// schedule of the store run on one host. The store has a second schedule,
// a few runs in a hundred on a busy machine, where the stop comes before
// backup1 closes the check's connection: so the one-host schedules are
// those of three runs, and the run across hosts is tried up to three times
// until it shows one of them.
func TestHostsAsNamespaces(t *testing.T) {
	needRoot(t)
	for _, p := range []string{"unshare", "nsenter", "ip"} {
		prereq.Command(t, p)
	}
	trace := filepath.Join(bin, "pain-trace")
	dir := t.TempDir()
	t.Setenv("BIN", bin)
	t.Setenv("TMPDIR", t.TempDir())
	for name, text := range map[string]string{"a": procfileA, "b": procfileB, "one": procfileA + procfileB} {
		if err := os.WriteFile(filepath.Join(dir, "Procfile."+name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	a, b := newHost(t, "host-a"), newHost(t, "host-b")
	link := fmt.Sprintf("ip link add pain0 netns %d type veth peer name pain0 netns %d",
		a.holder.Process.Pid, b.holder.Process.Pid)
	if out, err := exec.Command("sh", "-c", link).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", link, err, out)
	}
	for h, addr := range map[*host]string{a: "198.18.0.1/24", b: "198.18.0.2/24"} {
		h.sh(t, "ip addr add "+addr+" dev pain0 && ip link set pain0 up")
	}
	for _, h := range []*host{a, b} { // both ends up: the link carries packets
		h.sh(t, "i=0; until ip -o link show pain0 | grep -q 'state UP'; do i=$((i+1)); [ $i -lt 500 ] || exit 1; sleep 0.01; done")
	}

	one := newHost(t, "host-one")
	one.sh(t, "ip addr add 198.18.0.1/32 dev lo && ip addr add 198.18.0.2/32 dev lo")
	singles := map[string]bool{}
	for i := range 3 {
		run := fmt.Sprintf("single-%d", i)
		out := filepath.Join(dir, run+".arrows")
		if o, err := one.cmd(trace, "-run", run, "-o", out, "-f", filepath.Join(dir, "Procfile.one"),
			"-w", workload, "-check", check).CombinedOutput(); err != nil {
			t.Fatalf("one host: %v\n%s", err, o)
		}
		_, _, id := track(t, bin, out)
		singles[id] = true
	}
	var cross string
	for i := 0; i < 3 && !singles[cross]; i++ {
		partA, partB := crossRun(t, a, b, trace, dir, fmt.Sprintf("cross-%d", i))
		if i == 0 { // each part alone names the other host's end by its raw address
			text, err := exec.Command(trace, "-r", partA).Output()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(text, []byte(`# host: "host-a"`)) || !bytes.Contains(text, []byte("conn=198.18.0.2:")) {
				t.Errorf("host-a's part: want host-a and connections from 198.18.0.2 named by address; got\n%s", text)
			}
		}
		var runs, schedules string
		runs, schedules, cross = track(t, bin, partA, partB)
		if runs != "1" || schedules != "1" {
			t.Errorf("the two parts tracked as %s runs, %s schedules; want 1 run", runs, schedules)
		}
	}
	if !singles[cross] {
		t.Errorf("schedule across two hosts %s, on one host %v", cross, singles)
	}
	t.Logf("schedule %s across two hosts and on one (%v)", cross, singles)
	for _, h := range []*host{a, b, one} {
		ns := h.id(t)
		h.stop(t)
		if pids := inNetns(ns); len(pids) > 0 {
			t.Errorf("%s: processes %v left in %s", h.name, pids, ns)
		}
	}
}

// crossRun runs the store once across hosts a and b, each part traced by
// its own pain-trace under the name run, and returns the two trace files.
func crossRun(t *testing.T, a, b *host, trace, dir, run string) (partA, partB string) {
	t.Helper()
	partA, partB = filepath.Join(dir, run+".a.arrows"), filepath.Join(dir, run+".b.arrows")
	done := filepath.Join(dir, run+".done")
	cmdA := a.cmd(trace, "-run", run, "-o", partA, "-f", filepath.Join(dir, "Procfile.a"),
		"-hold", "while [ ! -e "+done+" ]; do sleep 0.02; done")
	var logA bytes.Buffer
	cmdA.Stderr = &logA
	if err := cmdA.Start(); err != nil {
		t.Fatal(err)
	}
	endedA := make(chan error, 1)
	go func() { endedA <- cmdA.Wait() }()
	holding := false
	for deadline := time.Now().Add(30 * time.Second); !holding && time.Now().Before(deadline); {
		select {
		case err := <-endedA:
			t.Fatalf("host-a's pain-trace ended before holding: %v\n%s", err, logA.String())
		case <-time.After(20 * time.Millisecond):
		}
		holding = strings.Contains(logA.String(), "holding the nodes")
	}
	if !holding {
		os.WriteFile(done, nil, 0o644)
		<-endedA
		t.Fatalf("host-a never held its nodes:\n%s", logA.String())
	}
	outB, errB := b.cmd(trace, "-run", run, "-o", partB, "-f", filepath.Join(dir, "Procfile.b"),
		"-w", workload, "-check", check).CombinedOutput()
	os.WriteFile(done, nil, 0o644)
	errA := <-endedA
	if errA != nil || errB != nil {
		t.Fatalf("host-a: %v\n%s\nhost-b: %v\n%s", errA, logA.String(), errB, outB)
	}
	return partA, partB
}
