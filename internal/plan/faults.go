package plan

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/sysent"
)

// Tiers of messages, most telling first: a fault the client merely sees as
// an error is rarely a bug; one on the traffic that keeps the workload's
// data safe often is.
const (
	tierRecovery = -1 // opened by an earlier fault (round n+1)
	tierData     = 0  // between system nodes, carrying the workload's data
	tierSystem   = 1  // between system nodes while the workload runs
	tierClient   = 2  // to or from the workload
	tierStartup  = 3  // before the workload began
)

func tier(m *message, outcome func(string) bool) int {
	switch {
	case m.system(outcome) && m.data:
		return tierData
	case m.system(outcome) && m.during:
		return tierSystem
	case m.during:
		return tierClient
	}
	return tierStartup
}

// compareCandidates orders messages: by tier, then by support, then in the
// order they were sent.
func compareCandidates(a, b *candidate, outcome func(string) bool) int {
	return cmp.Or(cmp.Compare(tier(&a.message, outcome), tier(&b.message, outcome)),
		cmp.Compare(b.runs, a.runs), cmp.Compare(a.ord, b.ord))
}

// kit makes proposals: faults with what the ranking needs to know of them.
type kit struct {
	opt     Options
	outcome func(string) bool
	nodes   []string       // the system's nodes
	timers  bool           // the system sends messages of its own while the workload runs
	rank    map[string]int // nodes by how much of the workload's data they carry, 0 first
}

// nodeFault is one fault, the node it acts on and its kind for ranking
// (a crash with restart is kind "restart").
type nodeFault struct {
	f    format.Fault
	node string
}

// singles proposes each fault of one message as a plan of its own.
func (k *kit) singles(c *candidate, total int) []proposal {
	why := "every observed schedule's outcome depends on this message"
	switch {
	case !c.lineage:
		why = fmt.Sprintf("this message carries the workload's data between %s and %s (seen in %d of %d runs)", c.send.Node, c.recv.Node, c.runs, total)
	case c.runs < total:
		why = fmt.Sprintf("the outcome depends on this message in %d of %d runs", c.runs, total)
	}
	ev := format.Evidence{Runs: c.runs, OfRuns: total, Schedules: c.schedules, Support: ratio(c.runs, total)}
	var out []proposal
	for _, nf := range k.faultsFor(&c.message) {
		cl := classOf(&c.message)
		if nodeWide(nf.f.Kind) {
			cl = "" // the node's moment matters, not which message marks it
		}
		out = append(out, proposal{
			faults: []format.Fault{nf.f}, why: why + ": " + describe(&c.message), ev: ev,
			kind: kindOf(&nf.f), node: nf.node, class: cl,
			tier: tier(&c.message, k.outcome), size: 1, nodeRank: k.rank[nf.node], runs: c.runs, ord: c.ord,
		})
	}
	return out
}

// faultsFor lists the faults that take message m away or stall it. The
// outcome nodes are never crashed or held: the question is whether the
// system handles the fault, not whether its client survives being killed.
// Restarts, pauses and partitions act while the workload runs: before it
// there is no acknowledged data to lose.
func (k *kit) faultsFor(m *message) []nodeFault {
	sendT, recvT, after, before, recvAfter := targets(m)
	if m.connect {
		// A refused connect never makes its connection: name the listener,
		// and which of the node's connects to it this is.
		t := format.Target{Node: m.send.Node, Syscall: "connect", Peer: listener(&m.send), Nth: m.nth}
		return []nodeFault{{format.Fault{Kind: format.FaultErrno, Errno: "ECONNREFUSED", Target: t}, m.send.Node}}
	}
	fs := []nodeFault{{format.Fault{Kind: format.FaultDrop, Target: sendT, After: after, Before: before}, m.send.Node}}
	pause, restart := cmp.Or(k.opt.Pause, DefaultPause), cmp.Or(k.opt.Restart, DefaultRestart)
	for _, side := range []struct {
		t             format.Target
		after, before *format.EventRef
	}{{sendT, after, before}, {recvT, recvAfter, nil}} {
		n := side.t.Node
		if k.outcome(n) {
			continue
		}
		at := func(f format.Fault) nodeFault {
			f.Target, f.After, f.Before = side.t, side.after, side.before
			return nodeFault{f, n}
		}
		if m.during {
			fs = append(fs, at(format.Fault{Kind: format.FaultCrash, Restart: true, Duration: restart}))
			fs = append(fs, at(format.Fault{Kind: format.FaultPause, Duration: pause}))
			if rest := k.others(n); len(rest) > 0 {
				fs = append(fs, at(format.Fault{Kind: format.FaultPartition, Groups: [][]string{{format.TopNode(n)}, rest}, Duration: pause}))
			}
		}
		fs = append(fs, at(format.Fault{Kind: format.FaultCrash}))
	}
	if d := cmp.Or(k.opt.Delay, pause); (k.opt.Delay != 0 || k.timers) && !k.outcome(m.send.Node) {
		fs = append(fs, nodeFault{format.Fault{Kind: format.FaultDelay, Duration: d, Target: sendT, After: after, Before: before}, m.send.Node})
	}
	return fs
}

// targets names the calls that send and receive m, and the windows that
// pin them, by the name of m that depends least on what went before it:
//
//   - a message tied to a workload request, by its class and ordinal
//     (package msgclass), which timers before it do not move; unless
//     chooseKeys found that more runs agree on its ordinal below;
//   - a stream message between system nodes sent while the workload runs,
//     by its ordinal among its sender's sends (and its receiver's receives)
//     on its connection since the workload started;
//   - any other stream message (the workload's own connections), by its
//     byte offset;
//   - anything else by its thread's neighbouring events.
//
// Byte offsets count every byte since the connection opened: readiness
// probes and timers before the workload move them, and a few traced runs
// that agree on them may agree by chance (five Redis runs did, and the
// plans pinned to their offsets did not fire in the next run). So they
// pin only what has no other name. Faults on messages sent while the
// workload runs wait for the workload to start, so that a fault meant for
// its data never strikes a readiness probe.
func targets(m *message) (sendT, recvT format.Target, after, before, recvAfter *format.EventRef) {
	sendT = format.Target{Node: m.send.Node, Thread: m.send.Thread, Syscall: class(&m.send), Conn: m.send.Conn}
	recvT = format.Target{Node: m.recv.Node, Thread: m.recv.Thread, Syscall: class(&m.recv), Conn: m.recv.Conn}
	after, before, recvAfter = ref(m.prevSend), ref(m.nextSend), ref(m.prevRecv)
	stream := m.send.Offset >= 0 && m.send.Conn != "" && m.recv.Offset >= 0
	byOrdinal := stream && m.sendNth > 0 && m.recvNth > 0 && m.ordKey != ""
	switch {
	case m.send.tied() && !(m.byOrdinal && byOrdinal):
		// Pinned by class and ordinal: no thread, no offset, no window.
		// The receive meant is the one that gets the message's first byte.
		sendT.Thread, sendT.Conn, sendT.Class, sendT.Ordinal = "", "", m.send.Class, m.send.Ordinal
		recvT.Thread, recvT.Conn, recvT.Class, recvT.Ordinal = "", "", m.send.Class, m.send.Ordinal
		after, before, recvAfter = nil, nil, nil
	case byOrdinal:
		sendT.Thread, sendT.Nth = "", m.sendNth
		recvT.Thread, recvT.Nth = "", m.recvNth
		after, before, recvAfter = m.start, nil, m.start
	case stream:
		// A stream message is pinned by its offset: no thread, no window.
		sendT.Thread, sendT.Offset = "", &m.send.Offset
		recvT.Thread, recvT.Offset = "", &m.recv.Offset
		after, before, recvAfter = m.start, nil, m.start
	}
	return
}

// others returns the system's nodes but n: the other side of a partition
// that cuts n off. The workload and the check stay connected to both
// sides, as clients of a partitioned system do.
func (k *kit) others(n string) []string {
	n = format.TopNode(n)
	var rest []string
	for _, o := range k.nodes {
		if o != n {
			rest = append(rest, o)
		}
	}
	return rest
}

// nodeWide reports whether a fault kind acts on a whole node (crash,
// pause, partition) rather than on one message.
func nodeWide(kind string) bool {
	return kind == format.FaultCrash || kind == format.FaultPause || kind == format.FaultPartition || kind == format.FaultPowerloss
}

// kindOf names a fault's kind for ranking: a crash with restart asks a
// different question (durability, rejoin) than a crash for good.
func kindOf(f *format.Fault) string {
	if f.Kind == format.FaultCrash && f.Restart {
		return "restart"
	}
	return f.Kind
}

// kindRank orders kinds within a family sweep: the faults behind most real
// failures of replicated systems first (kill and restart, a pause past the
// failure detector, a partition while clients write).
var kindRank = map[string]int{format.FaultPowerloss: -1, "restart": 0, format.FaultPause: 1, format.FaultPartition: 2, format.FaultDrop: 3,
	format.FaultCrash: 4, format.FaultDelay: 5, format.FaultErrno: 6}

// classOf names a message's class: its connection and direction.
func classOf(m *message) string {
	return cmp.Or(m.send.Conn, m.recv.Conn, m.send.Peer) + "|" + m.send.Node
}

// family names the question a plan asks: kind × node × connection of each
// fault. Plans of one family differ only in where along the same
// connection they strike.
func family(faults []format.Fault) string {
	parts := make([]string, len(faults))
	for i := range faults {
		f := &faults[i]
		n := f.Target.Node
		if f.Kind == format.FaultPartition && len(f.Groups) > 0 && len(f.Groups[0]) > 0 {
			n = f.Groups[0][0]
		}
		if len(f.Nodes) > 0 {
			n = strings.Join(f.Nodes, ",") // a power loss of several nodes
		}
		parts[i] = kindOf(f) + "|" + n + "|" + cmp.Or(f.Target.Conn, f.Target.Peer, classConn(f.Target.Class))
	}
	return strings.Join(parts, " + ")
}

func ref(e *Event) *format.EventRef {
	if e == nil {
		return nil
	}
	return &format.EventRef{Node: e.Node, Thread: e.Thread, Seq: e.Seq, Syscall: e.Syscall}
}

// class turns an event's system call into the group a fault matches
// (sysent.Group), so that a plan made from a write also fires on a sendto
// in a run that used one.
func class(e *Event) string { return sysent.Group(e.Syscall, e.Side) }

func describe(m *message) string {
	if m.connect {
		return fmt.Sprintf("%s/%s connects on %s", m.send.Node, m.send.Thread, m.send.Conn)
	}
	s := fmt.Sprintf("%s/%s#%d sends to %s/%s#%d on %s", m.send.Node, m.send.Thread, m.send.Seq, m.recv.Node, m.recv.Thread, m.recv.Seq, cmp.Or(m.send.Conn, m.recv.Conn))
	if m.prevSend != nil {
		s += fmt.Sprintf(", after %s", ref(m.prevSend))
	}
	if m.nextSend != nil {
		s += fmt.Sprintf(", before %s", ref(m.nextSend))
	}
	return s
}

// nodeRank orders the system's nodes by how many data-carrying messages
// they send or receive: the hub of the data flow (a primary, a leader)
// first.
func (c *collection) nodeRank() map[string]int {
	count := map[string]int{}
	for _, cand := range c.ranked {
		if cand.data {
			count[cand.send.Node]++
			count[cand.recv.Node]++
		}
	}
	nodes := slices.Clone(c.nodes)
	for n := range count {
		if !slices.Contains(nodes, n) {
			nodes = append(nodes, n)
		}
	}
	slices.SortStableFunc(nodes, func(a, b string) int { return cmp.Or(cmp.Compare(count[b], count[a]), strings.Compare(a, b)) })
	rank := map[string]int{}
	for i, n := range nodes {
		rank[n] = i
	}
	return rank
}

// classConn is the connection class of a target pinned by class ("" for
// none): what family names for a target that names no connection.
func classConn(class string) string {
	conn, _, _, err := format.ParseClass(class)
	if err != nil {
		return ""
	}
	return conn
}
