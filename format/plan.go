package format

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// Versions of the plan and result documents ("v"). A plan is written with
// the lowest version that holds it (VersionFor), so older tools still read
// the plans they can apply.
const (
	// PlanVersion is version 1: targets in stable names and byte offsets.
	PlanVersion = 1
	// PlanVersionClass is version 2: version 1 plus targets pinned to a
	// message class and ordinal (Target.Class, Target.Ordinal).
	PlanVersionClass = 2
	// PlanVersionDisk is version 3: version 2 plus the disk: the power
	// loss (FaultPowerloss, Fault.Nodes, Fault.Torn, Fault.Mode), short
	// writes, corruption, and targets naming a file (Target.File).
	PlanVersionDisk = 3
	// planVersionMax is the newest version this tool reads.
	planVersionMax = PlanVersionDisk
)

// VersionFor returns the version a plan of these faults is written with.
func VersionFor(faults []Fault) int {
	for _, f := range faults {
		if f.diskOnly() {
			return PlanVersionDisk
		}
	}
	for _, f := range faults {
		if f.Target.Class != "" {
			return PlanVersionClass
		}
	}
	return PlanVersion
}

// Fault kinds.
const (
	FaultErrno     = "errno"     // fail the call with Errno; it never reaches the kernel
	FaultDrop      = "drop"      // datagram: skip it, report success; stream: shut the connection down there
	FaultDelay     = "delay"     // hold the calling thread for Duration, then run the call
	FaultCrash     = "crash"     // SIGKILL the node; Restart brings it back after Duration
	FaultPause     = "pause"     // SIGSTOP the node for Duration
	FaultPartition = "partition" // Groups cannot reach each other, silently, for Duration from the Target call, or from the window's start to its end
	FaultPowerloss = "powerloss" // SIGKILL the Nodes at once and roll their files back to what a power loss leaves; Restart brings them back after Duration
	FaultShort     = "short"     // a write (write, pwrite64) writes half of what it asks, at least 1 byte
	FaultCorrupt   = "corrupt"   // SIGKILL the node, flip the bits of one durable byte of Target.File; Restart brings it back after Duration
)

// diskOnly says whether a fault needs plan version 3.
func (f *Fault) diskOnly() bool {
	return f.Kind == FaultPowerloss || f.Kind == FaultShort || f.Kind == FaultCorrupt || f.Target.File != ""
}

// Plan is one fault plan: a line of a plans.jsonl file.
type Plan struct {
	V        int      `json:"v"`
	ID       string   `json:"id"`
	Rank     int      `json:"rank,omitempty"`
	Faults   []Fault  `json:"faults"`
	Why      string   `json:"why"`
	Evidence Evidence `json:"evidence"`
}

// Evidence says why the planner believes a plan matters: how often its
// target was seen in the traced runs.
type Evidence struct {
	Runs      int      `json:"runs"`                // runs in which every target occurred
	OfRuns    int      `json:"of_runs"`             // runs tracked
	Schedules []string `json:"schedules,omitempty"` // schedules in which the targets occur
	Support   float64  `json:"support"`             // Runs / OfRuns
	Round     int      `json:"round,omitempty"`     // 0: from fault-free runs; n: from faulty runs of round n
}

// Fault is one fault: what to do, to which system call, and when.
//
// A partition with Duration starts at the Target call (the Nth in the
// window) and lasts Duration; without one it holds from the window's start
// to its end, and Target is not used. It is silent: packets between the
// groups are dropped (internal/inject, internal/netcut).
type Fault struct {
	Kind   string `json:"kind"`
	Target Target `json:"target"`
	// The window: the fault acts on the first matching call (Target.Nth-th)
	// that happens after event After and before event Before; nil means
	// from the start, or to the end, of the run.
	After    *EventRef  `json:"after,omitempty"`
	Before   *EventRef  `json:"before,omitempty"`
	Errno    string     `json:"errno,omitempty"`    // kind errno: ECONNRESET, EIO, ... (not used by a partition)
	Duration Duration   `json:"duration,omitempty"` // delay, pause, crash+restart, timed partition
	Restart  bool       `json:"restart,omitempty"`  // crash: restart from the Procfile line
	Groups   [][]string `json:"groups,omitempty"`   // partition: two sets of node names (see below)
	// Nodes (powerloss, plan version 3) are the nodes that lose power at
	// the Target call, the Target's node among them; empty: that node
	// alone. Torn keeps a prefix of each file's oldest write not yet
	// durable (package durable); Mode is what the file system promises:
	// "ordered" (the default: ext4, XFS) or "posix".
	Nodes []string `json:"nodes,omitempty"`
	Torn  bool     `json:"torn,omitempty"`
	Mode  string   `json:"mode,omitempty"`
}

// PowerNodes returns the nodes a powerloss takes down: Nodes, or the
// Target's node when it has none.
func (f *Fault) PowerNodes() []string {
	if len(f.Nodes) > 0 {
		return f.Nodes
	}
	return []string{f.Target.Node}
}

// Target names the system call a fault acts on, in stable names. Empty
// fields match anything.
type Target struct {
	Node    string `json:"node"`
	Thread  string `json:"thread,omitempty"`
	Syscall string `json:"syscall,omitempty"` // a name (sendto) or a class: send, recv, connect, accept
	Conn    string `json:"conn,omitempty"`
	Peer    string `json:"peer,omitempty"`
	// File (plan version 3) is the stable name of the file the call acts
	// on ($PAIN_RUN_DIR/kv1/wal.log): the row's local.
	File string `json:"file,omitempty"`
	// Offset pins a stream transfer: the call on Conn whose data starts at
	// this byte offset. Stream offsets are the same in every run of a
	// schedule, where thread names and seqs of runtimes that retry calls
	// (EAGAIN) or move work between threads are not.
	Offset *int64 `json:"offset,omitempty"`
	Nth    int    `json:"nth,omitempty"` // 1-based: the nth matching call in the window; 0 means 1
	// Class and Ordinal (plan version 2) pin a message by what it is
	// rather than by its bytes: the Ordinal-th message of the class
	// (package msgclass: "conn -> w5", the connection, the direction and
	// the workload request it is tied to), counted from the start of the
	// run as the injector names messages while the run goes. A send target
	// is the call that starts the message; a receive target is the call
	// that gets its first byte. Heartbeats and other timer traffic do not
	// move it, where they move byte offsets.
	Class   string `json:"class,omitempty"`
	Ordinal int    `json:"ordinal,omitempty"`
}

// Duration is how long a fault lasts: a Go duration, written in JSON as
// its text ("500ms"), parsed once, when the plan is read.
type Duration time.Duration

func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON writes the duration as its text.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads a duration's text; a negative one is refused.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration %s: want a string like \"500ms\"", b)
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return fmt.Errorf("duration %q: want a Go duration like 500ms", s)
	}
	*d = Duration(v)
	return nil
}

// EventRef names one event of a run in stable names.
type EventRef struct {
	Node    string `json:"node"`
	Thread  string `json:"thread"`
	Seq     int64  `json:"seq"`
	Syscall string `json:"syscall,omitempty"` // for people; matching uses node, thread, seq
}

func (r *EventRef) String() string {
	s := fmt.Sprintf("%s/%s#%d", r.Node, r.Thread, r.Seq)
	if r.Syscall != "" {
		s += " (" + r.Syscall + ")"
	}
	return s
}

// Validate reports what is wrong with a plan, or nil.
func (p *Plan) Validate() error {
	if p.V > planVersionMax {
		return errorf(ErrNewerVersion, "plan format version %d is newer than this tool (%d)", p.V, planVersionMax)
	}
	if p.V < 1 {
		return errorf(ErrCorrupt, "plan has no version (\"v\")")
	}
	if p.ID == "" {
		return errorf(ErrCorrupt, "plan has no id")
	}
	if len(p.Faults) == 0 {
		return errorf(ErrCorrupt, "plan %s has no faults", p.ID)
	}
	for i, f := range p.Faults {
		if err := f.validate(); err != nil {
			return errorf(ErrCorrupt, "plan %s fault %d: %v", p.ID, i+1, err)
		}
		if f.diskOnly() && p.V < PlanVersionDisk {
			what := "a " + f.Kind
			if f.Target.File != "" {
				what = "a file target"
			}
			return errorf(ErrCorrupt, "plan %s fault %d: %s needs plan version %d, the plan says %d", p.ID, i+1, what, PlanVersionDisk, p.V)
		}
		if f.Target.Class != "" && p.V < PlanVersionClass {
			return errorf(ErrCorrupt, "plan %s fault %d: a class target needs plan version %d, the plan says %d", p.ID, i+1, PlanVersionClass, p.V)
		}
	}
	return nil
}

func (f *Fault) validate() error {
	needDur := false
	switch f.Kind {
	case FaultErrno:
		if f.Errno == "" {
			return fmt.Errorf("kind errno needs an errno name like ECONNRESET")
		}
		if e, ok := Errno(f.Errno); !ok {
			return fmt.Errorf("unknown errno %s", f.Errno)
		} else if e >= 512 {
			return fmt.Errorf("errno %s is the kernel's own: a program never sees it", f.Errno)
		}
	case FaultDrop:
	case FaultDelay, FaultPause:
		needDur = true
	case FaultCrash:
		needDur = f.Restart
	case FaultPowerloss:
		needDur = f.Restart
		if err := f.validatePower(); err != nil {
			return err
		}
	case FaultShort:
	case FaultCorrupt:
		needDur = f.Restart
		if f.Target.File == "" {
			return fmt.Errorf("corrupt needs a target file")
		}
	case FaultPartition:
		if len(f.Groups) != 2 || len(f.Groups[0]) == 0 || len(f.Groups[1]) == 0 {
			return fmt.Errorf("partition needs two non-empty groups of nodes")
		}
	default:
		return fmt.Errorf("unknown kind %q", f.Kind)
	}
	if f.Kind != FaultPartition && f.Target.Node == "" {
		return fmt.Errorf("target has no node")
	}
	if needDur && f.Duration <= 0 {
		return fmt.Errorf("kind %s needs a duration like 500ms", f.Kind)
	}
	if f.Duration < 0 {
		return fmt.Errorf("duration %s is negative", f.Duration)
	}
	if f.Target.Nth < 0 {
		return fmt.Errorf("nth %d is negative", f.Target.Nth)
	}
	if f.Target.Offset != nil && (*f.Target.Offset < 0 || f.Target.Conn == "") {
		return fmt.Errorf("offset needs a conn and a byte offset >= 0")
	}
	return f.Target.validateClass()
}

// validatePower checks a powerloss's own fields.
func (f *Fault) validatePower() error {
	switch f.Mode {
	case "", "ordered", "posix":
	default:
		return fmt.Errorf("unknown durability mode %q (want ordered or posix)", f.Mode)
	}
	if len(f.Nodes) == 0 {
		return nil
	}
	seen := map[string]bool{}
	for _, n := range f.Nodes {
		if n == "" || seen[n] {
			return fmt.Errorf("powerloss nodes %v: empty or repeated", f.Nodes)
		}
		seen[n] = true
	}
	if !seen[f.Target.Node] {
		return fmt.Errorf("powerloss nodes %v do not include the target's node %s", f.Nodes, f.Target.Node)
	}
	return nil
}

func (t *Target) validateClass() error {
	if t.Class == "" {
		if t.Ordinal != 0 {
			return fmt.Errorf("ordinal %d needs a class", t.Ordinal)
		}
		return nil
	}
	conn, _, _, err := ParseClass(t.Class)
	switch {
	case err != nil:
		return err
	case t.Ordinal < 1:
		return fmt.Errorf("class %q needs an ordinal >= 1, got %d", t.Class, t.Ordinal)
	case t.Offset != nil:
		return fmt.Errorf("a target has a class or an offset, not both")
	case t.Conn != "" && t.Conn != conn:
		return fmt.Errorf("conn %s is not the class's connection %s", t.Conn, conn)
	}
	return nil
}

// String says in one line what the plan does, in stable names.
func (p *Plan) String() string {
	parts := make([]string, len(p.Faults))
	for i := range p.Faults {
		parts[i] = p.Faults[i].String()
	}
	return p.ID + ": " + strings.Join(parts, "; and ")
}

// String says in words what the fault does.
func (f *Fault) String() string {
	var b strings.Builder
	what := f.Target.call()
	switch f.Kind {
	case FaultErrno:
		fmt.Fprintf(&b, "fail %s with %s", what, f.Errno)
	case FaultDrop:
		fmt.Fprintf(&b, "drop the message of %s", what)
		if strings.HasPrefix(f.Target.Syscall, "send") || strings.HasPrefix(f.Target.Syscall, "write") || f.Target.Syscall == "" {
			b.WriteString(" (a stream is shut down there, as if the peer crashed)")
		}
	case FaultDelay:
		fmt.Fprintf(&b, "delay %s by %s", what, f.Duration)
	case FaultCrash:
		fmt.Fprintf(&b, "crash node %s at %s", f.Target.Node, what)
		if f.Restart {
			fmt.Fprintf(&b, ", restart it after %s", f.Duration)
		}
	case FaultPause:
		fmt.Fprintf(&b, "pause node %s for %s at %s", f.Target.Node, f.Duration, what)
	case FaultPowerloss:
		f.powerString(&b, what)
	case FaultShort:
		fmt.Fprintf(&b, "make %s write half of what it asks", what)
	case FaultCorrupt:
		fmt.Fprintf(&b, "crash node %s at %s and flip the bits of a durable byte of %s", f.Target.Node, what, f.Target.File)
		if f.Restart {
			fmt.Fprintf(&b, ", restart it after %s", f.Duration)
		}
	case FaultPartition:
		fmt.Fprintf(&b, "partition {%s} from {%s}", strings.Join(f.Groups[0], ","), strings.Join(f.Groups[1], ","))
		if f.Duration != 0 {
			fmt.Fprintf(&b, " for %s from %s", f.Duration, what)
		}
	default:
		fmt.Fprintf(&b, "%s %s", f.Kind, what)
	}
	if f.After != nil {
		fmt.Fprintf(&b, " after %s", f.After)
	}
	if f.Before != nil {
		fmt.Fprintf(&b, " before %s", f.Before)
	}
	return b.String()
}

func (f *Fault) powerString(b *strings.Builder, what string) {
	nodes := f.PowerNodes()
	word := "node"
	if len(nodes) > 1 {
		word = "nodes"
	}
	fmt.Fprintf(b, "power loss of %s %s at %s", word, strings.Join(nodes, " and "), what)
	var how []string
	if f.Torn {
		how = append(how, "torn")
	}
	if f.Mode == "posix" {
		how = append(how, "posix")
	}
	if len(how) > 0 {
		fmt.Fprintf(b, " (%s)", strings.Join(how, ", "))
	}
	if f.Restart {
		fmt.Fprintf(b, ", restart after %s", f.Duration)
	}
}

func (t *Target) call() string {
	var b strings.Builder
	if t.Class != "" {
		what := "send"
		if strings.HasPrefix(t.Syscall, "recv") || strings.HasPrefix(t.Syscall, "read") {
			what = "receive"
		}
		fmt.Fprintf(&b, "the %s by %s of message %q #%d", what, t.Node, t.Class, t.Ordinal)
		return b.String()
	}
	switch {
	case t.Offset != nil:
		b.WriteString("the ")
	case t.Nth > 1:
		fmt.Fprintf(&b, "the %s ", ordinal(t.Nth))
	default:
		b.WriteString("the first ")
	}
	if t.Syscall != "" {
		b.WriteString(t.Syscall)
	} else {
		b.WriteString("call")
	}
	b.WriteString(" by " + t.Node)
	if t.Thread != "" {
		b.WriteString("/" + t.Thread)
	}
	switch {
	case t.Conn != "" && t.Offset != nil:
		fmt.Fprintf(&b, " at byte %d of %s", *t.Offset, t.Conn)
	case t.Conn != "":
		b.WriteString(" on " + t.Conn)
	case t.File != "":
		b.WriteString(" on " + t.File)
	case t.Peer != "":
		b.WriteString(" to " + t.Peer)
	}
	return b.String()
}

func ordinal(n int) string {
	suffix := "th"
	switch {
	case n%100 >= 11 && n%100 <= 13:
	case n%10 == 1:
		suffix = "st"
	case n%10 == 2:
		suffix = "nd"
	case n%10 == 3:
		suffix = "rd"
	}
	return fmt.Sprintf("%d%s", n, suffix)
}

// ReadPlans reads a plans.jsonl stream: one plan per line, blank lines and
// lines starting with # skipped. Errors name the file and line.
func ReadPlans(r io.Reader, name string) ([]Plan, error) {
	var plans []Plan
	err := eachLine(r, name, func(line []byte) error {
		p, err := decodePlan(line)
		if err != nil {
			return err
		}
		plans = append(plans, *p)
		return nil
	})
	return plans, err
}

// decodePlan reads one plan's JSON (a trace's pain.plan, a line of a
// plans file): its version first, then its fields, strictly, then Validate.
func decodePlan(line []byte) (*Plan, error) {
	var p Plan
	if err := versioned(line, "plan"); err != nil {
		return nil, err
	}
	if err := strictJSON(line, &p); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

// json is the plan as JSON; a Plan always marshals.
func (p *Plan) json() string {
	b, err := MarshalJSON(p)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// WritePlan writes a plan as one JSON line.
func WritePlan(w io.Writer, p *Plan) error { return writeJSONLine(w, p) }

// Verdicts of an injected run.
const (
	VerdictBug      = "bug"       // the fault fired and the check failed
	VerdictSurvived = "survived"  // the fault fired and the check passed
	VerdictNotFired = "not-fired" // the run never reached the fault's target
	// VerdictInterrupted: the run was cut short (SIGINT, SIGTERM, a trace
	// that could not be written) and says nothing about the system.
	VerdictInterrupted = "interrupted"
	// VerdictInconclusive: the fault fired and the check said it could not
	// judge (it exited CheckCannotJudge): a node it must ask was down by
	// design, say. Neither a bug nor a pass.
	VerdictInconclusive = "inconclusive"
)

// CheckCannotJudge is the exit status by which a check says it could not
// judge the run (git bisect run's "cannot test"), so that a system that
// stopped on purpose is not read as one that lost data.
const CheckCannotJudge = 125

// Result is what pain-inject says about one plan: a line of results.jsonl.
type Result struct {
	V       int      `json:"v"`
	Plan    string   `json:"plan"`
	Fired   bool     `json:"fired"`
	Where   []Fired  `json:"where,omitempty"`
	Check   *int     `json:"check"` // the check's exit status; null when no check ran
	Verdict string   `json:"verdict"`
	Trace   string   `json:"trace,omitempty"`
	WallMS  int64    `json:"wall_ms"`
	Note    string   `json:"note,omitempty"` // e.g. the run timed out
	Faults  []string `json:"faults,omitempty"`
	// With pain-inject -repeat: how many runs of the plan there were, in
	// how many a fault fired, and in how many the verdict was bug (the
	// reproduction rate is Bugs/Runs). The other fields then describe the
	// first run that found the bug, or else the first in which a fault
	// fired, or else the last.
	Runs      int `json:"runs,omitempty"`
	FiredRuns int `json:"fired_runs,omitempty"`
	Bugs      int `json:"bugs,omitempty"`
	// CheckOutput (result version 2) is the end of what the check wrote
	// on its stdout and stderr: at most CheckOutputMax bytes, the last ones.
	CheckOutput string `json:"check_output,omitempty"`
	// Run (result version 2) is the run name in the trace (pain.run, the
	// traces' run column), so that results join the trace rows by run.
	Run string `json:"run,omitempty"`
	// RolledBack (result version 2) is what the plan's power losses took
	// from the nodes' files, file by file; the note says it in words.
	RolledBack []RolledBack `json:"rolled_back,omitempty"`
}

// RolledBack is what a power loss took from one file of a node.
type RolledBack struct {
	Node   string   `json:"node"`
	File   string   `json:"file"`             // the file's name
	Writes int      `json:"writes,omitempty"` // writes undone, whole or in part
	Bytes  int64    `json:"bytes,omitempty"`  // their bytes
	Torn   bool     `json:"torn,omitempty"`   // the oldest of them torn, a prefix kept
	Sizes  int      `json:"sizes,omitempty"`  // truncations and extensions undone
	Names  []string `json:"names,omitempty"`  // name changes undone, in words
	Gone   bool     `json:"gone,omitempty"`   // the name is gone after the loss
}

// CheckOutputMax bounds a result's check_output.
const CheckOutputMax = 4096

// ResultVersionCheckOutput is result version 2: version 1 plus
// check_output, run and rolled_back. Result versions share the numbers of
// plan versions: a reader takes results up to planVersionMax.
const ResultVersionCheckOutput = 2

// ResultVersionFor returns the version a result is written with: the
// lowest that holds its fields.
func ResultVersionFor(r *Result) int {
	if r.CheckOutput != "" || r.Run != "" || len(r.RolledBack) > 0 {
		return ResultVersionCheckOutput
	}
	return PlanVersion
}

// Fired is where a fault acted.
type Fired struct {
	Fault   int    `json:"fault"` // index into the plan's faults
	Node    string `json:"node"`
	Thread  string `json:"thread"`
	Seq     int64  `json:"seq"`
	Syscall string `json:"syscall,omitempty"`
	TimeNS  int64  `json:"time_ns"`
}

// ReadResults reads a results.jsonl stream.
func ReadResults(r io.Reader, name string) ([]Result, error) {
	var rs []Result
	err := eachLine(r, name, func(line []byte) error {
		var res Result
		if err := versioned(line, "result"); err != nil {
			return err
		}
		if err := strictJSON(line, &res); err != nil {
			return err
		}
		if res.Plan == "" {
			return errorf(ErrCorrupt, "not a pain-inject result (no \"v\" or \"plan\")")
		}
		rs = append(rs, res)
		return nil
	})
	return rs, err
}

// WriteResult writes a result as one JSON line.
func WriteResult(w io.Writer, r *Result) error { return writeJSONLine(w, r) }

func eachLine(r io.Reader, name string, f func([]byte) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 4<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		if err := f(line); err != nil {
			return fmt.Errorf("%s:%d: %w", name, n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", name, errorf(ErrCorrupt, "%v", err))
	}
	return nil
}

// versioned checks a line's "v" before anything else, so a newer document
// is refused by its version rather than by the fields this tool lacks.
func versioned(line []byte, what string) error {
	var head struct {
		V *int `json:"v"`
	}
	if err := json.Unmarshal(line, &head); err != nil {
		return errorf(ErrCorrupt, "bad JSON: %v", err)
	}
	switch {
	case head.V == nil || *head.V < 1:
		return errorf(ErrCorrupt, "not a pain %s (no \"v\" version)", what)
	case *head.V > planVersionMax:
		return errorf(ErrNewerVersion, "%s format version %d is newer than this tool (%d)", what, *head.V, planVersionMax)
	}
	return nil
}

// strictJSON refuses unknown fields: a typo in a hand-edited plan must not
// silently widen a fault's target.
func strictJSON(line []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(line))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return errorf(ErrCorrupt, "bad JSON: %v", err)
	}
	if d.More() {
		return errorf(ErrCorrupt, "more than one JSON value on the line")
	}
	return nil
}

func writeJSONLine(w io.Writer, v any) error {
	b, err := MarshalJSON(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// MarshalJSON is json.Marshal without its HTML escaping: connection ids
// such as c:main:s0>kv1:listen0 stay as they are, so grep finds them.
func MarshalJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
