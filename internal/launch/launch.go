//go:build linux && amd64

// Package launch runs a described system under the tracer: it starts the
// nodes, waits until they are ready, runs the workload and the check as
// traced nodes of their own, stops everything (SIGTERM, then SIGKILL after a
// grace period) and writes the trace. pain-trace and pain-inject share it,
// and take the system from the same command-line flags (Flags);
// pain-inject passes a tracer.Hook. A node the Hook kills for good
// (tracer.Tracer.Killed) is not waited for, and one it restarts is started
// again from its Procfile line (restarts.go).
//
// Nothing outlives Run: every traced process dies with PTRACE_O_EXITKILL if
// the tracer dies, the launcher shim sets PR_SET_PDEATHSIG, every node runs
// in its own process group, the tracer adopts orphans as child subreaper, and
// Run kills and reaps whatever is left before it returns.
package launch

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/tracer"
)

// Node is one Procfile line: a name and a shell command line.
type Node struct {
	Name    string
	Command string
}

// System describes a run.
type System struct {
	// Nodes are started first (each with /bin/sh -c) and must become
	// ready. Empty when Argv is used.
	Nodes []Node
	// Argv is the `-- CMD ARGS` form: one command whose whole process tree
	// is traced, as node basename(Argv[0]); forked children that exec get
	// nodes of their own.
	Argv []string
	// Workload and Check are shell command lines run as nodes "workload"
	// and "check" once the nodes are ready. Ready, when set, is polled
	// (untraced, every 100ms) instead of waiting for every node's listen().
	Workload, Check, Ready string
	// Hold, when set, is run (untraced) once the nodes are ready, instead
	// of a workload and a check, and the run lasts until it exits: for a
	// host that runs only some nodes of a run whose workload and check run
	// on another host (see hold.go).
	Hold string
	// Timeout bounds each phase: readiness, workload, check, the command
	// of Argv. Grace is the time between SIGTERM and SIGKILL at the end.
	Timeout, Grace time.Duration
	Dir            string
	Env            []string // nil: this process's environment
}

// Thread namings, Options.Threads.
const (
	ThreadsOS      = "os"
	ThreadsProcess = "process"
	ThreadsAuto    = "auto"
)

// Defaults for System.Timeout and System.Grace.
const (
	DefaultTimeout = 30 * time.Second
	DefaultGrace   = 2 * time.Second
)

// Options say where the trace and messages go.
type Options struct {
	Out      io.Writer // the trace (Arrow IPC stream)
	Hook     tracer.Hook
	Progress io.Writer    // progress and problems, one line each; nil discards
	Prefix   string       // prefix of progress lines, e.g. "pain-trace: "
	Tool     string       // tool name and version for the metadata
	Run      string       // run name for the metadata
	Plan     *format.Plan // fault plan for the metadata of injected runs
	Payload  int          // payload prefix bytes to keep per transfer
	// Compression of the trace's batches (default zstd).
	Compression format.Compression
	// Output receives the nodes' stdout and stderr (default os.Stderr);
	// their stdin is /dev/null. The `-- CMD` command has this process's
	// stdin, Stdout as its stdout (default os.Stdout) and Output as its
	// stderr.
	Output, Stdout *os.File
	// NoSeccomp forces PTRACE_SYSCALL mode.
	NoSeccomp bool
	// Threads is the thread naming: ThreadsOS (or empty) names each OS
	// thread, ThreadsProcess all threads of a process as one
	// (tracer.Config.ProcessThreads), ThreadsAuto the threads of Go
	// programs' processes as one and the others' each (AutoThreads). The
	// trace's metadata holds it (pain.x.threads).
	Threads string
	// Netns runs the system in a network namespace of its own with only a
	// loopback interface, up: runs on the same ports do not collide, and
	// the system reaches nothing outside. Needs root (CAP_SYS_ADMIN).
	Netns bool
	// RunDir is the run's scratch folder, exported as $PAIN_RUN_DIR:
	// created if missing, and kept. Empty: a new temporary folder, removed
	// when the run ends.
	RunDir string
	// Abort, when closed, cuts the run short at once: whatever runs is
	// killed without waiting for Grace (a second Ctrl-C). Cancelling Run's
	// context is the first: the running phase is stopped, nothing further
	// starts, and the nodes get SIGTERM and Grace as usual.
	Abort <-chan struct{}
	// Backend records without ptrace (pain-trace -backend ebpf; with a
	// Hook, only with Stops: pain-inject -backend ebpf); Meta is added to
	// the trace's metadata (pain.x.* keys): what the backend is and what
	// it cannot fill exactly.
	Backend tracer.Backend
	Stops   *tracer.Stops
	Meta    map[string]string
	// Cgroup, when set, gives the folder of the cgroup v2 each node starts
	// in (its restarts too), or nil: pain-inject's silent partitions
	// (package netcut) put each node in its own.
	Cgroup func(node string) *os.File
}

// Result is what happened. Status values are exit codes (128+n for a
// signal), -1 when the step did not run or did not finish.
type Result struct {
	Ready          bool
	WorkloadStatus int
	CheckStatus    int
	// CheckOutput is the end of what the check wrote on its stdout and
	// stderr (at most format.CheckOutputMax bytes); it went to Output too.
	CheckOutput string
	TimedOut    []string // phases that hit Timeout
	Crashed     []Crash  // nodes that ended before the stop
	Rows        int64
	// Cut says the run was stopped early, by an interruption or a trace
	// that could not be written: its statuses say nothing about the system.
	Cut bool
}

// Crash is a node that ended during the run, before the stop.
type Crash struct {
	Node   string
	Status int // its exit code (128+n for a signal)
}

// ErrNotReady is wrapped by Run's error when the nodes never became ready.
var ErrNotReady = errors.New("system not ready")

// ErrInterrupted is wrapped by Run's error when its context was cancelled
// (SIGINT, SIGTERM): the run says nothing about the system, and the phase
// that was running is not reported as timed out.
var ErrInterrupted = errors.New("interrupted")

// ErrTrace is wrapped by Run's error when the trace could not be written;
// the run is stopped at the first failed write.
var ErrTrace = errors.New("cannot write the trace")

var nodeName = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)

// ParseProcfile reads "name: command" lines; blank lines and lines starting
// with # are skipped.
func ParseProcfile(r io.Reader) ([]Node, error) {
	var nodes []Node
	seen := map[string]bool{}
	sc := bufio.NewScanner(r)
	for ln := 1; sc.Scan(); ln++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, cmd, ok := strings.Cut(line, ":")
		name, cmd = strings.TrimSpace(name), strings.TrimSpace(cmd)
		switch {
		case !ok || cmd == "":
			return nil, fmt.Errorf("line %d: want \"name: command\"", ln)
		case !nodeName.MatchString(name):
			return nil, fmt.Errorf("line %d: bad node name %q", ln, name)
		case name == format.NodeWorkload || name == format.NodeCheck:
			return nil, fmt.Errorf("line %d: node name %q is reserved", ln, name)
		case seen[name]:
			return nil, fmt.Errorf("line %d: node %q defined twice", ln, name)
		}
		seen[name] = true
		nodes = append(nodes, Node{Name: name, Command: cmd})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(nodes) == 0 {
		return nil, errors.New("no nodes")
	}
	return nodes, nil
}

type runner struct {
	s   System
	o   Options
	tr  *tracer.Tracer
	res Result

	environ []string // the processes' environment, $PAIN_RUN_DIR included

	mu       sync.Mutex
	listened map[string]bool
	current  map[string]*tracer.Proc // each Procfile node's latest incarnation (restarts.go)
	changed  chan struct{}

	checkOut  checkOutput
	checkPipe *os.File // the check's stdout and stderr, while it starts
}

func (r *runner) say(format string, args ...any) {
	if r.o.Progress != nil {
		fmt.Fprintf(r.o.Progress, r.o.Prefix+format+"\n", args...)
	}
}

// Run runs the system and writes its trace to o.Out. The error is nil when
// the run went as described, whatever the check said; it wraps ErrNotReady
// when the nodes never became ready, and reports tool failures. The trace
// is complete and valid in every case where o.Out accepts it.
func Run(ctx context.Context, s System, o Options) (Result, error) {
	if s.Timeout <= 0 {
		s.Timeout = DefaultTimeout
	}
	if s.Grace <= 0 {
		s.Grace = DefaultGrace
	}
	if len(s.Nodes) == 0 && len(s.Argv) == 0 {
		return Result{}, errors.New("nothing to run: no nodes and no command")
	}
	r := &runner{s: s, o: o, listened: map[string]bool{}, changed: make(chan struct{}, 1)}
	r.res = Result{WorkloadStatus: -1, CheckStatus: -1}
	dir, removeDir, err := openRunDir(o.RunDir)
	if err != nil {
		return r.res, err
	}
	defer removeDir() // after Close: no process of the run is left
	r.environ = withRunDir(r.env(), dir)
	rs := &restarts{r: r}
	tr, err := tracer.New(tracer.Config{
		Setup:          netnsSetup(o.Netns),
		Hook:           o.Hook,
		Restart:        rs.restart,
		Files:          runFiles(dir),
		Payload:        o.Payload,
		NoSeccomp:      o.NoSeccomp,
		ProcessThreads: o.Threads == ThreadsProcess,
		AutoThreads:    o.Threads == ThreadsAuto,
		Backend:        o.Backend,
		Stops:          o.Stops,
		Warn:           func(m string) { r.say("warning: %s", m) },
		OnListen: func(n string) {
			r.mu.Lock()
			r.listened[n] = true
			r.mu.Unlock()
			select {
			case r.changed <- struct{}{}:
			default:
			}
		},
	})
	if err != nil {
		return r.res, err
	}
	r.tr = tr
	// A trace that cannot be written stops the run at once: a run nobody
	// can read back is no run.
	runCtx, fail := context.WithCancelCause(ctx)
	defer fail(nil)
	written := make(chan error, 1)
	go func() { written <- r.write(tr, fail) }()

	runErr := r.run(runCtx)
	r.res.Cut = runCtx.Err() != nil
	switch {
	case ctx.Err() != nil:
		runErr = fmt.Errorf("%w; the trace is complete up to the interruption", ErrInterrupted)
	case runCtx.Err() != nil:
		runErr = context.Cause(runCtx)
	}
	r.stop()
	tr.Close()
	if werr := <-written; werr != nil && runErr == nil {
		runErr = werr
	}
	r.res.Rows = tr.Rows()
	r.res.CheckOutput = r.checkOut.text(time.Second)
	return r.res, runErr
}

// write encodes the rows off the ptrace thread, flushing a batch every
// 250ms so a killed run loses little. Its first error goes to fail (and
// the rows after it are only drained).
func (r *runner) write(tr *tracer.Tracer, fail func(error)) error {
	host, _ := os.Hostname()
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	cmds := map[string]string{}
	for _, n := range r.s.Nodes {
		cmds[n.Name] = n.Command
	}
	if len(r.s.Argv) > 0 {
		cmds[filepath.Base(r.s.Argv[0])] = strings.Join(r.s.Argv, " ")
	}
	if r.s.Workload != "" {
		cmds[format.NodeWorkload] = r.s.Workload
	}
	if r.s.Check != "" {
		cmds[format.NodeCheck] = r.s.Check
	}
	extra := maps.Clone(r.o.Meta)
	if extra == nil {
		extra = map[string]string{}
	}
	extra["threads"] = cmp.Or(r.o.Threads, ThreadsOS)
	extra["resolution_ns"] = strconv.FormatInt(tr.Resolution().Nanoseconds(), 10)
	if r.o.Backend == nil {
		extra["files"] = fileRootName // whose files have rows (tracer.Config.Files)
	}
	m := format.Meta{Version: format.Version, Kind: format.KindTrace, Tool: r.o.Tool, Run: r.o.Run,
		Host: host, Kernel: strings.TrimSpace(string(kernel)), Start: tr.StartTime(), Commands: cmds, Plan: r.o.Plan,
		Extra: extra}
	events := tr.Events()
	w, err := format.NewWriter(r.o.Out, m, format.WithCompression(r.o.Compression))
	failed := func(e error) {
		err = fmt.Errorf("%w: %w", ErrTrace, e)
		r.say("cannot write the trace (%v): stopping the run", e)
		fail(err)
	}
	if err != nil {
		failed(err)
	}
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case batch, ok := <-events:
			switch {
			case !ok && err != nil:
				return err
			case !ok:
				if cerr := w.Close(); cerr != nil {
					failed(cerr)
				}
				return err
			}
			for i := 0; i < len(batch) && err == nil; i++ {
				if werr := w.Write(&batch[i]); werr != nil {
					failed(werr)
				}
			}
			tr.Recycle(batch) // the writer keeps no reference into it
		case <-tick.C:
			if err != nil {
				continue
			}
			if ferr := w.Flush(); ferr != nil {
				failed(ferr)
			}
		}
	}
}

// stopped says why ctx, the run's context, was cancelled.
func stopped(ctx context.Context) string {
	if c := context.Cause(ctx); c != nil && !errors.Is(c, context.Canceled) {
		return c.Error()
	}
	return "interrupted"
}

func (r *runner) env() []string {
	if r.environ != nil {
		return r.environ
	}
	if r.s.Env != nil {
		return r.s.Env
	}
	return os.Environ()
}

func (r *runner) start(node string, argv []string, split bool) (*tracer.Proc, error) {
	return r.startThread(node, argv, split, "")
}

func (r *runner) startThread(node string, argv []string, split bool, thread string) (*tracer.Proc, error) {
	out := r.o.Output
	if out == nil {
		out = os.Stderr
	}
	stdout := out
	if node == format.NodeCheck && r.checkPipe != nil {
		out, stdout = r.checkPipe, r.checkPipe
	}
	var stdin *os.File // /dev/null
	if split {
		stdin, stdout = os.Stdin, r.o.Stdout
		if stdout == nil {
			stdout = os.Stdout
		}
	}
	var cg *os.File
	if r.o.Cgroup != nil {
		cg = r.o.Cgroup(node)
	}
	return r.tr.Start(tracer.Spec{Node: node, Argv: argv, Dir: r.s.Dir, Env: r.env(),
		Stdin: stdin, Stdout: stdout, Stderr: out, SplitExec: split, Thread: thread, Cgroup: cg})
}

// shell runs a command line with /bin/sh -c. A simple command (no shell
// syntax) naming a program is exec'd by the shell, so the node's main
// thread is the program itself and signals reach it directly.
func shell(cmd string) []string {
	if f := strings.Fields(cmd); len(f) > 0 && !strings.ContainsAny(cmd, ";&|<>()$`\\\"'*?[]#~=%!{}\n") &&
		!builtins[f[0]] {
		if _, err := exec.LookPath(f[0]); err == nil {
			cmd = "exec " + cmd
		}
	}
	return []string{"/bin/sh", "-c", cmd}
}

// builtins are shell commands that are not programs.
var builtins = map[string]bool{"exec": true, "exit": true, "cd": true, "export": true, "readonly": true,
	"return": true, "set": true, "shift": true, "trap": true, "unset": true, "eval": true, ".": true,
	":": true, "break": true, "continue": true, "times": true, "alias": true, "read": true, "wait": true,
	"umask": true, "ulimit": true, "command": true, "type": true, "getopts": true, "hash": true, "local": true}

func (r *runner) run(ctx context.Context) error {
	if len(r.s.Argv) > 0 {
		p, err := r.start(filepath.Base(r.s.Argv[0]), r.s.Argv, true)
		if err != nil {
			return err
		}
		r.res.Ready = true
		r.res.WorkloadStatus = r.await(ctx, p, "command")
		if ctx.Err() != nil {
			return ErrInterrupted
		}
		return r.check(ctx)
	}
	nodes := map[string]*tracer.Proc{}
	for _, n := range r.s.Nodes {
		p, err := r.start(n.Name, shell(n.Command), false)
		if err != nil {
			return fmt.Errorf("node %s: %w", n.Name, err)
		}
		nodes[n.Name] = p
		r.incarnation(n.Name, p)
	}
	r.say("started %d nodes", len(nodes))
	if err := r.ready(ctx); err != nil {
		return err
	}
	r.res.Ready = true
	if err := r.hold(ctx); err != nil {
		return err
	}
	if r.s.Workload != "" {
		r.say("running workload")
		p, err := r.start(format.NodeWorkload, shell(r.s.Workload), false)
		if err != nil {
			return fmt.Errorf("workload: %w", err)
		}
		r.res.WorkloadStatus = r.await(ctx, p, "workload")
		if ctx.Err() != nil {
			return ErrInterrupted // the check would judge a half-run workload
		}
		if r.res.WorkloadStatus != 0 {
			r.say("workload exited with status %d", r.res.WorkloadStatus)
		}
	}
	r.awaitRestarts(ctx)
	err := r.check(ctx)
	for _, n := range r.s.Nodes {
		select {
		case <-nodes[n.Name].Done():
			r.res.Crashed = append(r.res.Crashed, Crash{n.Name, nodes[n.Name].ExitCode()})
			r.say("node %s ended during the run with status %d", n.Name, nodes[n.Name].ExitCode())
		default:
		}
	}
	return err
}

// awaitRestarts waits, within the timeout, until the restarts the faults
// scheduled are done (each waits for its node to listen again, if it
// listened before): the check judges the system as it recovered, not
// a node still on its way back.
func (r *runner) awaitRestarts(ctx context.Context) {
	for deadline := time.Now().Add(r.s.Timeout); r.tr.Restarting() > 0; time.Sleep(2 * time.Millisecond) {
		if ctx.Err() != nil || time.Now().After(deadline) {
			return
		}
	}
}

func (r *runner) check(ctx context.Context) error {
	if r.s.Check == "" {
		return nil
	}
	if ctx.Err() != nil {
		return ErrInterrupted
	}
	r.say("running check")
	out := r.o.Output
	if out == nil {
		out = os.Stderr
	}
	pw, err := r.checkOut.start(out)
	if err != nil {
		return fmt.Errorf("check: %w", err)
	}
	r.checkPipe = pw
	p, err := r.start(format.NodeCheck, shell(r.s.Check), false)
	r.checkPipe = nil
	pw.Close() // the check holds its own copy
	if err != nil {
		return fmt.Errorf("check: %w", err)
	}
	r.res.CheckStatus = r.await(ctx, p, "check")
	return nil
}

// await waits for p to exit within the timeout; on timeout or interruption
// it kills p's node and returns -1 (only a timeout is noted in TimedOut).
func (r *runner) await(ctx context.Context, p *tracer.Proc, what string) int {
	t := time.NewTimer(r.s.Timeout)
	defer t.Stop()
	select {
	case <-p.Done():
		return p.ExitCode()
	case <-t.C:
		r.say("%s did not finish within %v; killing it", what, r.s.Timeout)
		r.res.TimedOut = append(r.res.TimedOut, what)
	case <-ctx.Done():
		r.say("%s stopped (%s); killing it", what, stopped(ctx))
	}
	r.tr.Signal(p.Node, syscall.SIGKILL)
	<-p.Done()
	return -1
}

// incarnation notes p as the latest process of Procfile node name.
func (r *runner) incarnation(name string, p *tracer.Proc) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.current == nil {
		r.current = map[string]*tracer.Proc{}
	}
	r.current[name] = p
}

// ready waits until every node has listened (or the ready command
// succeeds), a node ends, or the timeout passes. A node a fault killed is
// no node that ended: the system goes on without it when it stays down,
// and when a restart is under way (a crash or power loss with restart
// before the system was ready) its next incarnation is waited for.
func (r *runner) ready(ctx context.Context) error {
	deadline := time.NewTimer(r.s.Timeout)
	defer deadline.Stop()
	poll := time.NewTicker(100 * time.Millisecond)
	defer poll.Stop()
	var probe *tracer.Proc
	killed := r.tr.Killed
	for {
		for _, n := range r.s.Nodes {
			r.mu.Lock()
			p := r.current[n.Name]
			r.mu.Unlock()
			select {
			case <-p.Done():
				if !killed(n.Name) && r.tr.Restarting() == 0 {
					// Asked after Done: a restart that started a new
					// incarnation noted it before it stopped counting.
					r.mu.Lock()
					now := r.current[n.Name]
					r.mu.Unlock()
					if now == p {
						return fmt.Errorf("%w: node %s exited with status %d before it was ready", ErrNotReady, n.Name, p.ExitCode())
					}
				}
			default:
			}
		}
		if r.s.Ready == "" {
			var waiting []string
			r.mu.Lock()
			for _, n := range r.s.Nodes {
				if !r.listened[n.Name] {
					waiting = append(waiting, n.Name)
				}
			}
			r.mu.Unlock()
			waiting = slices.DeleteFunc(waiting, killed) // asked outside r.mu: it waits for the ptrace thread
			if len(waiting) == 0 {
				r.say("all nodes listening")
				return nil
			}
			select {
			case <-deadline.C:
				slices.Sort(waiting)
				return fmt.Errorf("%w after %v: no listen() yet from %s (use -ready CMD for nodes that do not listen)", ErrNotReady, r.s.Timeout, strings.Join(waiting, ", "))
			case <-ctx.Done():
				return ErrInterrupted
			case <-r.changed:
			case <-poll.C:
			}
			continue
		}
		if probe == nil {
			p, err := r.tr.Start(tracer.Spec{Node: "ready", Argv: shell(r.s.Ready), Dir: r.s.Dir, Env: r.env(), Untraced: true})
			if err != nil {
				return fmt.Errorf("ready command: %w", err)
			}
			probe = p
		}
		select {
		case <-probe.Done():
			if probe.ExitCode() == 0 {
				r.say("ready command succeeded")
				return nil
			}
			probe = nil
			select {
			case <-poll.C:
			case <-deadline.C:
				return fmt.Errorf("%w after %v: ready command %q never succeeded", ErrNotReady, r.s.Timeout, r.s.Ready)
			case <-ctx.Done():
				return ErrInterrupted
			}
		case <-deadline.C:
			return fmt.Errorf("%w after %v: ready command %q never succeeded", ErrNotReady, r.s.Timeout, r.s.Ready)
		case <-ctx.Done():
			return ErrInterrupted
		case <-poll.C:
		}
	}
}

// stop marks the teardown in the trace, sends SIGTERM to every traced
// process and waits up to the grace period for them to end (or until
// Options.Abort); Close then kills the rest.
func (r *runner) stop() {
	r.tr.Teardown()
	if r.tr.Live() == 0 {
		return
	}
	r.tr.Signal("", syscall.SIGTERM)
	grace := time.NewTimer(r.s.Grace)
	defer grace.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for r.tr.Live() > 0 {
		select {
		case <-grace.C:
			r.say("processes still running %v after SIGTERM: killing them", r.s.Grace)
			return
		case <-r.o.Abort:
			r.say("interrupted again: killing every process now")
			return
		case <-tick.C:
		}
	}
}
