package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/prereq"
	"github.com/boxofpain/pain/internal/testenv"
)

func TestReadReply(t *testing.T) {
	tests := []struct {
		in   string
		want reply
		err  bool
	}{
		{in: "+OK\r\n", want: reply{kind: '+', str: "OK"}},
		{in: "-READONLY You can't write against a read only replica.\r\n", want: reply{kind: '-', str: "READONLY You can't write against a read only replica."}},
		{in: ":42\r\n", want: reply{kind: ':', num: 42}},
		{in: "$5\r\nv0001\r\n", want: reply{kind: '$', str: "v0001"}},
		{in: "$0\r\n\r\n", want: reply{kind: '$'}},
		{in: "$-1\r\n", want: reply{kind: '$', null: true}},
		{in: "*2\r\n$9\r\n127.0.0.1\r\n$4\r\n7379\r\n", want: reply{kind: '*', arr: []reply{{kind: '$', str: "127.0.0.1"}, {kind: '$', str: "7379"}}}},
		{in: "*-1\r\n", want: reply{kind: '*', null: true}},
		{in: "*1\r\n*1\r\n:1\r\n", want: reply{kind: '*', arr: []reply{{kind: '*', arr: []reply{{kind: ':', num: 1}}}}}},
		{in: "$5\r\nv00", err: true},
		{in: "+OK\n", err: true},
		{in: "?x\r\n", err: true},
		{in: "$-2\r\n", err: true},
		{in: ":x\r\n", err: true},
		{in: "*3\r\n:1\r\n", err: true},
	}
	for _, tt := range tests {
		got, err := readReply(bufio.NewReader(strings.NewReader(tt.in)))
		if (err != nil) != tt.err {
			t.Errorf("readReply(%q) error %v, want error %v", tt.in, err, tt.err)
			continue
		}
		if !tt.err && fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("readReply(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func FuzzReadReply(f *testing.F) {
	for _, s := range []string{"+OK\r\n", "$5\r\nv0001\r\n", "*2\r\n$1\r\na\r\n:1\r\n", "*-1\r\n", "-ERR x\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := readReply(bufio.NewReader(bytes.NewReader(b)))
		if err == nil && r.kind != '+' && r.kind != '-' && r.kind != ':' && r.kind != '$' && r.kind != '*' {
			t.Fatalf("accepted reply of kind %q", r.kind)
		}
	})
}

func TestInfoAndFields(t *testing.T) {
	m := info("# Replication\r\nrole:master\r\nconnected_slaves:2\r\nslave0:ip=127.0.0.1,port=7380,state=online,offset=1,lag=0\r\n")
	if m["role"] != "master" || m["connected_slaves"] != "2" || !strings.Contains(m["slave0"], "state=online") {
		t.Errorf("info = %v", m)
	}
	r := reply{kind: '*', arr: []reply{{str: "name"}, {str: "mymaster"}, {str: "flags"}, {str: "master"}, {str: "odd"}}}
	if f := r.fields(); f["name"] != "mymaster" || f["flags"] != "master" || len(f) != 2 {
		t.Errorf("fields = %v", f)
	}
}

// freeBase finds a port base such that base, base+1, base+2 (servers) and
// base+10..12 (Sentinels) are free on loopback, away from the defaults that
// `make redis` uses.
func freeBase(t *testing.T) int {
	for range 50 {
		base := 30000 + rand.IntN(20000)
		ok := true
		for _, p := range []int{base, base + 1, base + 2, base + 10, base + 11, base + 12} {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				ok = false
				break
			}
			l.Close()
		}
		if ok {
			return base
		}
	}
	t.Fatal("no free ports")
	return 0
}

// system is one Redis system written by gen.sh on free ports.
type system struct {
	tool string            // pain-trace or pain-inject, built by the test
	vars map[string]string // PROCFILE, READY, WORKLOAD, CHECK
	base int               // first port
}

// newSystem skips the test unless Redis is there (fails it in CI), builds
// TOOL (pain-trace or pain-inject) and rediswl from this tree, and writes a
// system on free ports; env adds settings for gen.sh.
func newSystem(t *testing.T, tool string, env ...string) *system {
	if testing.Short() {
		t.Skip("starts six Redis processes under the tracer")
	}
	for _, c := range []string{"redis-server", "redis-sentinel"} {
		prereq.Command(t, c)
	}
	top, err := testenv.Root()
	if err != nil {
		t.Fatal(err)
	}
	tools := testenv.Tools(t, "./cmd/"+tool, "./scripts/redis/rediswl")
	bin, rwl := filepath.Join(tools, tool), filepath.Join(tools, "rediswl")
	base := freeBase(t)
	dir := filepath.Join(t.TempDir(), "sys")
	gen := exec.Command(filepath.Join(top, "scripts", "redis", "gen.sh"), dir)
	gen.Env = append(os.Environ(), fmt.Sprintf("PORT=%d", base), fmt.Sprintf("SPORT=%d", base+10), "RWL="+rwl, "SETTLE=10s")
	gen.Env = append(gen.Env, env...)
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("gen.sh: %v\n%s", err, out)
	}
	return &system{tool: bin, vars: shellVars(t, filepath.Join(dir, "system.sh")), base: base}
}

// run runs the tool on the system with extra flags and returns its stdout
// and stderr. On timeout the context kills the tool by PID, and
// the tool kills the system; the ports must be closed afterwards.
func (s *system) run(t *testing.T, args ...string) (stdout, stderr string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	args = append(args, "-f", s.vars["PROCFILE"], "-ready", s.vars["READY"],
		"-w", s.vars["WORKLOAD"], "-check", s.vars["CHECK"], "-timeout", "30s")
	cmd := exec.CommandContext(ctx, s.tool, args...)
	var out, errs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errs
	err = cmd.Run()
	portsClosed(t, s.base)
	return out.String(), errs.String(), err
}

// TestTraceRedis traces one fault-free run of the whole system with
// pain-trace and checks the trace: all six servers, the workload and the
// check have events, the check passed, and the last write the workload sent
// reached both replicas through the primary, in stable names.
func TestTraceRedis(t *testing.T) {
	// The check waits (QUIET) before it reads, as in make redis.
	sys := newSystem(t, "pain-trace")
	trace := filepath.Join(t.TempDir(), "run.arrows")
	_, stderr, err := sys.run(t, "-o", trace, "-payload", "128")
	if err != nil {
		t.Fatalf("pain-trace: %v\n%s", err, stderr)
	}

	_, events, err := format.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, e := range events {
		count[e.Node]++
	}
	for _, n := range []string{"primary", "replica1", "replica2", "sentinel1", "sentinel2", "sentinel3", "workload", "check"} {
		if count[n] == 0 {
			t.Errorf("no events from node %s (nodes: %v)", n, count)
		}
	}

	// Both ends of a connection carry the same stable name. The primary
	// names every connection from a traced socket after that socket (its
	// raw address there would mean the tracer lost the race between the
	// connect and the accept); only the untraced -ready command keeps a raw
	// name. And every connection a replica made to the primary before the
	// teardown began is known to the primary by that name too. After it, a
	// replica that read the stopping primary's end of file may connect again
	// to a listener that is closing, and no accept answers.
	if msg := namedBothEnds(events); msg != "" {
		t.Errorf("%s; trace kept in %s", msg, keep(t, trace))
	}

	// The workload's last SET, as the primary read it, then the primary's
	// replication stream carrying it to each replica, then each replica
	// reading those bytes: offsets in stable connection names.
	last := []byte("k0100")
	var setRead *format.Event
	for i := range events {
		e := &events[i]
		if e.Node == "primary" && e.Ret > 0 && strings.HasPrefix(e.Conn, "workload:") && isRead(e.Syscall) && bytes.Contains(e.Payload, last) {
			setRead = e
			break
		}
	}
	if setRead == nil {
		t.Fatalf("primary never read the workload's SET k0100")
	}
	for _, r := range []string{"replica1", "replica2"} {
		var sent *format.Event
		for i := range events {
			e := &events[i]
			if e.Node == "primary" && e.Thread == setRead.Thread && e.Seq > setRead.Seq && e.Ret > 0 &&
				strings.HasPrefix(e.Conn, r+":") && strings.HasSuffix(e.Conn, ">primary:listen0") &&
				!isRead(e.Syscall) && bytes.Contains(e.Payload, last) {
				sent = e
				break
			}
		}
		if sent == nil {
			t.Errorf("primary did not replicate SET k0100 to %s; trace kept in %s", r, keep(t, trace))
			continue
		}
		got := false
		for i := range events {
			e := &events[i]
			if e.Node == r && e.Conn == sent.Conn && isRead(e.Syscall) && e.Ret > 0 &&
				e.Offset <= sent.Offset && sent.Offset < e.Offset+e.Ret {
				got = true
				break
			}
		}
		if !got {
			t.Errorf("%s never read the primary's bytes at offset %d of %s", r, sent.Offset, sent.Conn)
		}
	}
}

// namedBothEnds returns what is wrong with the names of the connections to
// the primary's listener, or "".
func namedBothEnds(events []format.Event) string {
	const listener = ">primary:listen0"
	torn := int64(-1)
	connectors := map[string]string{} // local address of a traced socket connected to the primary -> its conn
	for _, e := range events {
		if e.Syscall == format.EventTeardown && torn < 0 {
			torn = e.TimeNS
		}
		if e.Node != "primary" && strings.HasSuffix(e.Conn, listener) && e.LocalAddr != "" {
			connectors[e.LocalAddr] = e.Conn
		}
	}
	atPrimary := map[string]bool{}
	var msgs []string
	for _, e := range events {
		if e.Node != "primary" || !strings.HasSuffix(e.Conn, listener) || atPrimary[e.Conn] {
			continue
		}
		atPrimary[e.Conn] = true
		if c, ok := connectors[e.PeerAddr]; ok && c != e.Conn {
			msgs = append(msgs, fmt.Sprintf("the primary named %s's connection %s", c, e.Conn))
		}
	}
	for _, e := range events {
		if strings.HasPrefix(e.Node, "replica") && e.Syscall == "connect" && strings.HasSuffix(e.Conn, listener) &&
			(torn < 0 || e.TimeNS < torn) && !atPrimary[e.Conn] {
			msgs = append(msgs, fmt.Sprintf("%s connected as %s before the teardown, and the primary has no events on that connection", e.Node, e.Conn))
		}
	}
	return strings.Join(msgs, "; ")
}

func isRead(syscall string) bool {
	return strings.HasPrefix(syscall, "read") || strings.HasPrefix(syscall, "recv")
}

// shellVars reads the NAME='value' lines that gen.sh writes.
func shellVars(t *testing.T, path string) map[string]string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, "='"); ok {
			m[k] = strings.TrimSuffix(v, "'")
		}
	}
	return m
}

// portsClosed fails the test if anything still listens on the system's
// ports: pain-trace must leave nothing running.
func portsClosed(t *testing.T, base int) {
	for _, p := range []int{base, base + 1, base + 2, base + 10, base + 11, base + 12} {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", p), time.Second)
		if err == nil {
			c.Close()
			t.Errorf("port %d still listening after the run", p)
		}
	}
}

// keep copies a trace out of the test's temporary folder for a post-mortem.
func keep(t *testing.T, trace string) string {
	dst := filepath.Join(os.TempDir(), "redis-test-"+filepath.Base(filepath.Dir(trace))+".arrows")
	if b, err := os.ReadFile(trace); err == nil && os.WriteFile(dst, b, 0o666) == nil {
		return dst
	}
	return "(not kept)"
}

// TestInjectRedis is the experiment in short, with two plans written by hand
// in the planner's terms: holding the primary's event loop (a delay of its
// 50th reply to the workload) for longer than a failover takes loses
// acknowledged writes; crashing the primary at the same point does not,
// because the replicas already had every acknowledged write.
func TestInjectRedis(t *testing.T) {
	reply50 := format.Target{Node: "primary", Thread: "main", Syscall: "send", Conn: "workload:main:s1>primary:listen0", Nth: 50}
	tests := []struct {
		fault   format.Fault
		verdict string
	}{
		{format.Fault{Kind: format.FaultDelay, Duration: format.Duration(6 * time.Second), Target: reply50}, format.VerdictBug},
		{format.Fault{Kind: format.FaultCrash, Target: reply50}, format.VerdictSurvived},
	}
	for _, tt := range tests {
		t.Run(tt.fault.Kind, func(t *testing.T) {
			sys := newSystem(t, "pain-inject")
			tmp := t.TempDir()
			plan := format.Plan{V: format.PlanVersion, ID: "hand-" + tt.fault.Kind, Faults: []format.Fault{tt.fault}, Why: "TestInjectRedis"}
			var b bytes.Buffer
			if err := format.WritePlan(&b, &plan); err != nil {
				t.Fatal(err)
			}
			plans := filepath.Join(tmp, "plans.jsonl")
			if err := os.WriteFile(plans, b.Bytes(), 0o666); err != nil {
				t.Fatal(err)
			}
			out, stderr, err := sys.run(t, "-plan", plans, "-o", filepath.Join(tmp, "injected.arrows"))
			var exit *exec.ExitError
			if err != nil && (!errors.As(err, &exit) || exit.ExitCode() == 2) {
				t.Fatalf("pain-inject: %v\n%s", err, stderr)
			}
			rs, rerr := format.ReadResults(strings.NewReader(out), "stdout")
			if rerr != nil || len(rs) != 1 {
				t.Fatalf("pain-inject printed no result (%v):\n%s\n%s", rerr, out, stderr)
			}
			if r := rs[0]; !r.Fired || r.Verdict != tt.verdict {
				t.Errorf("%s: fired %v, verdict %s, want fired, %s (%s)", plan.Faults[0].String(), r.Fired, r.Verdict, tt.verdict, r.Note)
			}
		})
	}
}
