//go:build linux && amd64

package inject

import (
	"errors"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/ebpfrec"
	"github.com/boxofpain/pain/internal/prereq"
	"github.com/boxofpain/pain/internal/sysent"
)

// TestStops: where an injected run recorded with eBPF stops, per kind of
// plan, and which plans need full ptrace.
func TestStops(t *testing.T) {
	off := int64(10)
	class := format.Target{Node: "kv1", Syscall: "send", Class: "kv1>kv2:listen0 -> w1", Ordinal: 1}
	for _, tc := range []struct {
		name  string
		fault format.Fault
		nodes []string // nil: every node
		calls []string // some of the calls, in order
		not   []string // calls it must not stop at
		full  string   // part of the reason for full ptrace
	}{
		{name: "crash at a class's send", fault: format.Fault{Kind: format.FaultCrash, Target: class},
			nodes: []string{"kv1"}, calls: []string{"write", "sendto", "sendmsg"}, not: []string{"read", "connect", "pwrite64", "clone"}},
		{name: "recv by class, no file read", fault: format.Fault{Kind: format.FaultCrash,
			Target: format.Target{Node: "kv2", Syscall: "recv", Class: "kv1>kv2:listen0 -> w1", Ordinal: 1}},
			nodes: []string{"kv2"}, calls: []string{"read", "recvfrom"}, not: []string{"pread64", "write"}},
		{name: "errno on a connect", fault: format.Fault{Kind: format.FaultErrno, Errno: "ECONNREFUSED",
			Target: format.Target{Node: "kv1", Syscall: "connect", Peer: "kv2:listen0"}},
			nodes: []string{"kv1"}, calls: []string{"connect"}, not: []string{"write"}},
		{name: "offset, no call named", fault: format.Fault{Kind: format.FaultDrop,
			Target: format.Target{Node: "kv1", Conn: "a>b", Offset: &off}},
			nodes: []string{"kv1"}, calls: []string{"read", "write", "sendfile"}, not: []string{"connect"}},
		{name: "timed partition", fault: format.Fault{Kind: format.FaultPartition, Target: class,
			Duration: format.Duration(time.Second), Groups: [][]string{{"kv1"}, {"kv2", "kv3"}}},
			nodes: []string{"kv1"}, calls: []string{"write", "sendto"}, not: []string{"connect", "read"}},
		{name: "window partition, no stop", fault: format.Fault{Kind: format.FaultPartition,
			Groups: [][]string{{"kv1"}, {"kv2"}}},
			nodes: []string{}, not: []string{"write", "connect", "sendto", "read"}},
		{name: "pause of any node", fault: format.Fault{Kind: format.FaultPause, Duration: format.Duration(time.Second),
			Target: format.Target{Syscall: "accept"}},
			calls: []string{"accept", "accept4"}},
		{name: "power loss", fault: format.Fault{Kind: format.FaultPowerloss, Target: format.Target{Node: "kv1", Syscall: "fsync"}},
			full: "file faults"},
		{name: "EIO on a file", fault: format.Fault{Kind: format.FaultErrno, Errno: "EIO",
			Target: format.Target{Node: "kv1", Syscall: "write", File: "$PAIN_RUN_DIR/kv1/wal"}}, full: "file faults"},
		{name: "window", fault: format.Fault{Kind: format.FaultCrash, Target: class,
			After: &format.EventRef{Node: "kv1", Thread: "main", Seq: 4}}, full: "seq"},
		{name: "clone", fault: format.Fault{Kind: format.FaultCrash, Target: format.Target{Node: "kv1", Syscall: "clone"}},
			full: "clone"},
		{name: "any call", fault: format.Fault{Kind: format.FaultCrash, Target: format.Target{Node: "kv1"}},
			full: "naming no call"},
		{name: "recv that may be a file read", fault: format.Fault{Kind: format.FaultCrash,
			Target: format.Target{Node: "kv1", Syscall: "recv", Nth: 3}}, full: "pread64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Stops(&format.Plan{ID: "p", Faults: []format.Fault{tc.fault}})
			if tc.full != "" {
				if !errors.Is(err, ErrFullPtrace) || !strings.Contains(err.Error(), tc.full) {
					t.Fatalf("err %v, want full ptrace for %q", err, tc.full)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(s.Nodes, tc.nodes) || (s.Nodes == nil) != (tc.nodes == nil) {
				t.Errorf("nodes %q, want %q", s.Nodes, tc.nodes)
			}
			for _, c := range tc.calls {
				if !slices.Contains(s.Calls, sysent.ByName(c).Nr) {
					t.Errorf("no stop at %s", c)
				}
			}
			for _, c := range tc.not {
				if slices.Contains(s.Calls, sysent.ByName(c).Nr) {
					t.Errorf("a stop at %s", c)
				}
			}
		})
	}
}

// TestBackends runs this package's tests again with every plan that
// allows it injected as pain-inject -backend ebpf injects it: recorded by
// the eBPF recorder, stopping only where the plan can act
// (PAIN_INJECT_BACKEND=ebpf, withEBPF). Every expectation written for
// full ptrace must hold: the same faults fire at the same calls with the
// same effects, on every test system here (TCP, UDP, pipes; errno, drop,
// delay, crash, pause, partition).
func TestBackends(t *testing.T) {
	if os.Getenv("PAIN_INJECT_BACKEND") != "" {
		t.Skip("this is the run under a backend")
	}
	if testing.Short() {
		t.Skip("runs the package's tests again")
	}
	progs.Need(t)
	if err := ebpfrec.Available(); err != nil {
		prereq.Missing(t, "%v", err)
	}
	prereq.Root(t, "the eBPF recorder")
	cmd := exec.Command(os.Args[0], "-test.count=1", "-test.skip=^TestBackends$")
	cmd.Env = append(os.Environ(), "PAIN_INJECT_BACKEND=ebpf")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the tests under -backend ebpf: %v\n%s", err, out)
	}
}
