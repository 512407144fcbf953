package format

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func samplePlans() []Plan {
	return []Plan{
		{V: 1, ID: "p1", Rank: 1, Why: "every observed schedule's check depends on this replication message",
			Faults: []Fault{{Kind: FaultDrop,
				Target: Target{Node: "primary", Thread: "main.2", Syscall: "write", Conn: "primary:main.2:s0>backup1:listen0", Nth: 1},
				After:  &EventRef{Node: "primary", Thread: "main.2", Seq: 11, Syscall: "read"},
				Before: &EventRef{Node: "primary", Thread: "main.2", Seq: 14, Syscall: "write"}}},
			Evidence: Evidence{Runs: 6, OfRuns: 6, Support: 1, Schedules: []string{"a1b2c3"}}},
		{V: 1, ID: "p2", Rank: 2, Why: "cut both replication paths",
			Faults: []Fault{
				{Kind: FaultErrno, Errno: "ECONNREFUSED", Target: Target{Node: "primary", Syscall: "connect", Peer: "backup1:listen0"}},
				{Kind: FaultCrash, Restart: true, Duration: Duration(200 * time.Millisecond), Target: Target{Node: "backup2", Syscall: "recv", Nth: 3}},
			},
			Evidence: Evidence{Runs: 5, OfRuns: 6, Support: 5.0 / 6}},
		{V: 1, ID: "p3", Why: "partition", Faults: []Fault{{Kind: FaultPartition, Groups: [][]string{{"primary"}, {"backup1", "backup2"}},
			After: &EventRef{Node: "workload", Thread: "main", Seq: 4}}}},
		{V: 1, ID: "p4", Why: "slow", Faults: []Fault{{Kind: FaultDelay, Duration: Duration(1500 * time.Millisecond), Target: Target{Node: "backup1", Thread: "main.1", Syscall: "read", Nth: 2}}}},
		{V: 1, ID: "p6", Why: "pinned by offset", Faults: []Fault{{Kind: FaultDrop, Target: Target{Node: "primary", Syscall: "send", Conn: "primary:s2>backup1:listen0", Offset: ptr(int64(24))}}}},
		{V: 1, ID: "p5", Why: "stop", Faults: []Fault{{Kind: FaultPause, Duration: Duration(3 * time.Second), Target: Target{Node: "backup2", Syscall: "send", Nth: 11}}}},
		{V: 2, ID: "p7", Why: "pinned by class", Faults: []Fault{
			{Kind: FaultDrop, Target: Target{Node: "primary", Syscall: "send", Class: "primary:main:s1>backup1:listen0 -> w5", Ordinal: 1}},
			{Kind: FaultCrash, Target: Target{Node: "backup2", Syscall: "recv", Class: "primary:main:s2>backup2:listen0 -> w5", Ordinal: 1}},
		}},
		{V: 3, ID: "p8", Why: "power loss after the reply", Faults: []Fault{
			{Kind: FaultPowerloss, Restart: true, Duration: Duration(300 * time.Millisecond),
				Target: Target{Node: "backup1", Syscall: "read"}, After: &EventRef{Node: "backup1", Thread: "main", Seq: 9, Syscall: "write"}},
		}},
		{V: 3, ID: "p9", Why: "rack", Faults: []Fault{
			{Kind: FaultPowerloss, Nodes: []string{"backup1", "backup2"}, Torn: true, Mode: "posix", Target: Target{Node: "backup1", Syscall: "read", Nth: 2}},
		}},
		{V: 3, ID: "p10", Why: "disk errors", Faults: []Fault{
			{Kind: FaultErrno, Errno: "EIO", Target: Target{Node: "backup1", Syscall: "fdatasync", File: "$PAIN_RUN_DIR/b1/wal.log", Nth: 3}},
			{Kind: FaultShort, Target: Target{Node: "backup2", Syscall: "write", File: "$PAIN_RUN_DIR/b2/wal.log"}},
			{Kind: FaultCorrupt, Restart: true, Duration: Duration(time.Second), Target: Target{Node: "backup2", Syscall: "fdatasync", File: "$PAIN_RUN_DIR/b2/wal.log", Nth: 2}},
		}},
	}
}

func TestPlansRoundTripAndGolden(t *testing.T) {
	var jsonl, text bytes.Buffer
	for _, p := range samplePlans() {
		if err := p.Validate(); err != nil {
			t.Fatalf("sample plan %s: %v", p.ID, err)
		}
		WritePlan(&jsonl, &p)
		text.WriteString(p.String() + "\n")
	}
	got, err := ReadPlans(bytes.NewReader(jsonl.Bytes()), "plans.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, samplePlans()) {
		t.Errorf("plans read back differently:\n%+v", got)
	}
	for name, data := range map[string][]byte{"plans.jsonl": jsonl.Bytes(), "plans.txt": text.Bytes()} {
		golden := filepath.Join("testdata", name)
		if *update {
			os.WriteFile(golden, data, 0o644)
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(data, want) {
			t.Errorf("%s changed (run with -update if intended):\n%s", name, data)
		}
	}
}

func TestPlanErrors(t *testing.T) {
	for _, tc := range []struct{ line, want string }{
		{`{"v":4,"id":"p1","faults":[],"extra":1}`, "plans.jsonl:1: plan format version 4 is newer than this tool (3)"},
		{`{"v":2,"id":"p1","faults":[{"kind":"powerloss","target":{"node":"a"}}]}`, "a powerloss needs plan version 3, the plan says 2"},
		{`{"v":3,"id":"p1","faults":[{"kind":"powerloss","restart":true,"target":{"node":"a"}}]}`, "needs a duration"},
		{`{"v":3,"id":"p1","faults":[{"kind":"powerloss","mode":"ext2","target":{"node":"a"}}]}`, `unknown durability mode "ext2"`},
		{`{"v":3,"id":"p1","faults":[{"kind":"powerloss","nodes":["b","c"],"target":{"node":"a"}}]}`, "do not include the target's node a"},
		{`{"v":3,"id":"p1","faults":[{"kind":"powerloss","nodes":["a","a"],"target":{"node":"a"}}]}`, "empty or repeated"},
		{`{"v":2,"id":"p1","faults":[{"kind":"errno","errno":"EIO","target":{"node":"a","file":"$PAIN_RUN_DIR/x"}}]}`, "a file target needs plan version 3"},
		{`{"v":3,"id":"p1","faults":[{"kind":"corrupt","target":{"node":"a"}}]}`, "corrupt needs a target file"},
		{`{"id":"p1"}`, `plans.jsonl:1: not a pain plan (no "v" version)`},
		{`{"v":1,"id":"p1","faults":[{"kind":"drop","target":{"node":"a"}}],"why":"","evidence":{"runs":1,"of_runs":1,"support":1},"tpyo":1}`, "unknown field"},
		{`{"v":1,"id":"p1","faults":[{"kind":"melt","target":{"node":"a"}}]}`, `fault 1: unknown kind "melt"`},
		{`{"v":1,"id":"p1","faults":[{"kind":"delay","target":{"node":"a"}}]}`, "needs a duration"},
		{`{"v":1,"id":"p1","faults":[{"kind":"errno","target":{"node":"a"}}]}`, "needs an errno name"},
		{`{"v":1,"id":"p1","faults":[{"kind":"partition","groups":[["a"]]}]}`, "two non-empty groups"},
		{`{"v":1,"faults":[]}`, "no id"},
		{`{"v":1,"id":"p1","faults":[{"kind":"drop","target":{"node":"a","class":"a:main:s0>b:listen0 -> w5","ordinal":1}}]}`, "needs plan version 2, the plan says 1"},
		{`{"v":2,"id":"p1","faults":[{"kind":"drop","target":{"node":"a","class":"a:main:s0>b:listen0 => w5","ordinal":1}}]}`, `class "a:main:s0>b:listen0 => w5" is not`},
		{`{"v":2,"id":"p1","faults":[{"kind":"drop","target":{"node":"a","class":"a:main:s0>b:listen0 -> w5"}}]}`, "needs an ordinal >= 1, got 0"},
		{`{"v":2,"id":"p1","faults":[{"kind":"drop","target":{"node":"a","ordinal":2}}]}`, "ordinal 2 needs a class"},
		{`{"v":2,"id":"p1","faults":[{"kind":"drop","target":{"node":"a","conn":"a:main:s0>b:listen0","offset":3,"class":"a:main:s0>b:listen0 -> w5","ordinal":1}}]}`, "a class or an offset, not both"},
		{`{"v":2,"id":"p1","faults":[{"kind":"drop","target":{"node":"a","conn":"x","class":"a:main:s0>b:listen0 -> w5","ordinal":1}}]}`, "is not the class's connection"},
		{`not json`, "bad JSON"},
	} {
		_, err := ReadPlans(strings.NewReader(tc.line), "plans.jsonl")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ReadPlans(%s) = %v, want an error containing %q", tc.line, err, tc.want)
		}
	}
	_, err := ReadPlans(strings.NewReader(`{"v":9}`), "plans.jsonl")
	if !errors.Is(err, ErrNewerVersion) {
		t.Errorf("newer plan: %v does not wrap ErrNewerVersion", err)
	}
}

func TestResultsRoundTrip(t *testing.T) {
	one := 1
	want := []Result{
		{V: 1, Plan: "p1", Fired: true, Where: []Fired{{Fault: 0, Node: "primary", Thread: "main.2", Seq: 14, Syscall: "write", TimeNS: 123456}},
			Check: &one, Verdict: VerdictBug, Trace: "out/inject/p1.arrows", WallMS: 812},
		{V: 1, Plan: "p2", Verdict: VerdictNotFired, WallMS: 700},
	}
	var buf bytes.Buffer
	for i := range want {
		WriteResult(&buf, &want[i])
	}
	got, err := ReadResults(&buf, "results.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("results read back differently:\n%+v", got)
	}
}

func FuzzReadPlans(f *testing.F) {
	var jsonl bytes.Buffer
	for _, p := range samplePlans() {
		WritePlan(&jsonl, &p)
	}
	f.Add(jsonl.String())
	f.Add(`{"v":1}`)
	f.Fuzz(func(t *testing.T, s string) {
		plans, err := ReadPlans(strings.NewReader(s), "f.jsonl")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.jsonl") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, p := range plans {
			if err := p.Validate(); err != nil {
				t.Fatalf("accepted an invalid plan: %v", err)
			}
			_ = p.String()
		}
	})
}

func ptr[T any](v T) *T { return &v }
