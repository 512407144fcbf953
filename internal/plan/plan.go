// Package plan chooses fault plans from observed schedules: lineage-driven
// fault injection over happens-before graphs recovered from system calls.
//
// The question it answers for each schedule is "which messages does the
// client-visible outcome depend on?": the events of the workload and the
// check, and every message edge from which they can be reached. A message
// that the outcome depends on in every observed schedule is a single point
// of failure: taking it away (dropping it, crashing its sender just before
// it goes out, crashing its receiver just before it arrives) must either be
// handled or break the check, so those plans come first. Where schedules
// differ, the outcome was reached along alternative paths; sets of up to K
// messages that meet every schedule's lineage (hitting sets, as in LDFI)
// cut all of the paths seen, and come next. Schedules of injected runs show
// the recovery paths a fault opened; their own messages get faults in the
// next round, on top of the fault that opened them.
//
// The package is pure: it takes schedules and returns plans.
package plan

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/msgclass"
)

// Schedule is what the planner needs of one observed schedule: its
// happens-before graph in stable names.
type Schedule struct {
	ID     string
	Runs   int    // runs that showed this schedule
	Plan   string // id of the plan injected in those runs; empty for fault-free runs
	Events []Event
	Edges  []Edge
}

// Event is one node of a happens-before graph: a system call, or a message
// coalesced from consecutive calls of one thread on one connection.
type Event struct {
	Node, Thread string
	Seq          int64 // seq of the (first) system call
	Calls        int   // how many system calls were coalesced; 0 means 1
	Syscall      string
	FDKind       string
	Conn         string
	Peer         string
	Offset       int64 // stream offset of the first byte; -1 for none
	TimeNS       int64 // when it happened in one run of the schedule: orders connects only
	// Class and Ordinal name the message a send sends, or a receive's
	// first byte belongs to (package msgclass; empty and 0 for others).
	Class   string
	Ordinal int
}

// tied reports whether e's message is tied to a workload request: its
// class and ordinal name it in every run, however timers moved its bytes.
func (e *Event) tied() bool { return e.Ordinal > 0 && !strings.HasSuffix(e.Class, " "+msgclass.Untied) }

// Edge is a happens-before edge between two events of a schedule.
type Edge struct {
	From, To int
	Message  bool // a message: send -> receive, connect -> accept
}

// Options bound the search.
type Options struct {
	Max   int             // most plans to return; 0 means no bound
	K     int             // largest fault combination; 0 or 1 means single faults only
	Tried map[string]bool // plan ids already tried: skipped
	// Outcome says which nodes' events are the client-visible outcome.
	// Nil means the nodes named workload and check.
	Outcome func(node string) bool
	// Delay is how long delay faults hold a message (Go duration); empty
	// means no delay faults.
	Delay string
	// Parents holds the plans injected in the runs of schedules with a Plan,
	// by id: their recovery paths get faults added to the parent's.
	Parents map[string]format.Plan
}

// message is one message of a schedule, named so that the same message in
// another schedule gets the same key: its connection, its sender, and its
// stream offset or else its ordinal among the sender's messages on that
// connection.
type message struct {
	key      string
	send     Event // the sending event
	recv     Event // the receiving event (connect: the accept)
	prevSend *Event
	nextSend *Event
	prevRecv *Event
	connect  bool
	nth      int   // for a connect: its ordinal among the node's connects to that listener
	during   bool  // sent after the workload began: it can touch the workload's data
	ord      int64 // when it was sent in the run the schedule was drawn from
	// pinClass: target the message by its class and ordinal, not by its
	// byte offset, which differs between the schedules it occurs in.
	pinClass bool
}

// lineage returns the messages of s that the outcome depends on.
func lineage(s *Schedule, outcome func(string) bool) []message {
	into := make([][]int, len(s.Events)) // incoming edges per event
	for i, e := range s.Edges {
		if e.From >= 0 && e.From < len(s.Events) && e.To >= 0 && e.To < len(s.Events) {
			into[e.To] = append(into[e.To], i)
		}
	}
	// Walk back from every outcome event.
	seen := make([]bool, len(s.Events))
	var stack []int
	for i, e := range s.Events {
		if outcome(e.Node) {
			seen[i] = true
			stack = append(stack, i)
		}
	}
	var msgEdges []int
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, ei := range into[i] {
			e := s.Edges[ei]
			if e.Message {
				msgEdges = append(msgEdges, ei)
			}
			if !seen[e.From] {
				seen[e.From] = true
				stack = append(stack, e.From)
			}
		}
	}
	// Neighbours in program order, for windows.
	byThread := map[string][]int{}
	for i, e := range s.Events {
		k := e.Node + "/" + e.Thread
		byThread[k] = append(byThread[k], i)
	}
	for _, idx := range byThread {
		slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(s.Events[a].Seq, s.Events[b].Seq) })
	}
	neighbour := func(i, d int) *Event {
		e := s.Events[i]
		idx := byThread[e.Node+"/"+e.Thread]
		p, _ := slices.BinarySearchFunc(idx, e.Seq, func(j int, seq int64) int { return cmp.Compare(s.Events[j].Seq, seq) })
		if p+d < 0 || p+d >= len(idx) {
			return nil
		}
		n := s.Events[idx[p+d]]
		return &n
	}
	// Name each message by its sender's ordinal on its connection.
	slices.SortFunc(msgEdges, func(a, b int) int {
		ea, eb := s.Events[s.Edges[a].From], s.Events[s.Edges[b].From]
		return cmp.Or(strings.Compare(ea.Node, eb.Node), strings.Compare(ea.Thread, eb.Thread), cmp.Compare(ea.Seq, eb.Seq), cmp.Compare(a, b))
	})
	msgEdges = slices.Compact(msgEdges)
	ordinal := map[string]int{}
	connects := connectOrdinals(s)
	during := afterWorkload(s, into)
	var out []message
	for _, ei := range msgEdges {
		e := s.Edges[ei]
		send, recv := s.Events[e.From], s.Events[e.To]
		if send.Node == recv.Node || send.Node == "check" || recv.Node == "check" {
			// Inside one node there is nothing for a fault between nodes to
			// take away; and the check is the oracle, not the system.
			continue
		}
		conn := cmp.Or(send.Conn, recv.Conn, send.Peer)
		connect := isConnect(send.Syscall)
		stem := fmt.Sprintf("%s|%s/%s|%v", conn, send.Node, send.Thread, connect)
		ordinal[stem]++
		key := fmt.Sprintf("%s|%d", stem, ordinal[stem])
		switch {
		case send.tied():
			// A message tied to a workload request is its class: the same
			// in every schedule, whatever timers sent before it.
			key = fmt.Sprintf("%s#%d", send.Class, send.Ordinal)
		case send.Offset >= 0:
			// A stream message is its bytes: the same offset is the same
			// message in every schedule, even where an earlier one differs.
			key = fmt.Sprintf("%s|%s|@%d", conn, send.Node, send.Offset)
		}
		out = append(out, message{
			key:      key,
			send:     send,
			recv:     recv,
			prevSend: neighbour(e.From, -1),
			nextSend: neighbour(e.From, +1),
			prevRecv: neighbour(e.To, -1),
			connect:  connect,
			nth:      connects[e.From],
			during:   during[e.From],
			ord:      send.TimeNS,
		})
	}
	return out
}

func isConnect(sys string) bool { return sys == "connect" }

// afterWorkload marks the events that happen after the workload began:
// those reachable from a workload event along happens-before edges.
func afterWorkload(s *Schedule, into [][]int) []bool {
	out := make([][]int, len(s.Events))
	for i := range into {
		for _, ei := range into[i] {
			out[s.Edges[ei].From] = append(out[s.Edges[ei].From], i)
		}
	}
	seen := make([]bool, len(s.Events))
	var stack []int
	for i, e := range s.Events {
		if e.Node == "workload" {
			seen[i] = true
			stack = append(stack, i)
		}
	}
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, j := range out[i] {
			if !seen[j] {
				seen[j] = true
				stack = append(stack, j)
			}
		}
	}
	return seen
}

// connectOrdinals numbers each node's connects to each listener in the order
// they happened, 1-based: a refused connect is named "the 2nd connect of
// primary to backup1:listen0", which holds whichever thread makes it.
func connectOrdinals(s *Schedule) map[int]int {
	var idx []int
	for i, e := range s.Events {
		if isConnect(e.Syscall) {
			idx = append(idx, i)
		}
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		ea, eb := s.Events[a], s.Events[b]
		return cmp.Or(cmp.Compare(ea.TimeNS, eb.TimeNS), strings.Compare(ea.Thread, eb.Thread), cmp.Compare(ea.Seq, eb.Seq))
	})
	n := map[string]int{}
	out := map[int]int{}
	for _, i := range idx {
		e := s.Events[i]
		k := e.Node + "|" + listener(&e)
		n[k]++
		out[i] = n[k]
	}
	return out
}

// listener names the listening end of a connect.
func listener(e *Event) string {
	_, l, _ := strings.Cut(e.Conn, ">")
	return cmp.Or(e.Peer, l)
}

// candidate is a message with its support across schedules.
type candidate struct {
	message
	runs      int
	schedules []string
}

// Plans returns ranked plans for the schedules.
func Plans(scheds []Schedule, opt Options) []format.Plan {
	outcome := opt.Outcome
	if outcome == nil {
		outcome = func(n string) bool { return n == "workload" || n == "check" }
	}
	var base, faulty []*Schedule
	total := 0
	for i := range scheds {
		if scheds[i].Plan == "" {
			base = append(base, &scheds[i])
			total += scheds[i].Runs
		} else {
			faulty = append(faulty, &scheds[i])
		}
	}
	// Support of each lineage message across fault-free schedules.
	cands := map[string]*candidate{}
	var order []string
	lineages := make([]map[string]bool, len(base))
	for si, s := range base {
		lineages[si] = map[string]bool{}
		for _, m := range lineage(s, outcome) {
			if lineages[si][m.key] {
				continue // one message read by several receives
			}
			lineages[si][m.key] = true
			c := cands[m.key]
			if c == nil {
				c = &candidate{message: m}
				cands[m.key] = c
				order = append(order, m.key)
			}
			c.runs += s.Runs
			c.schedules = append(c.schedules, s.ID)
			if m.send.Offset != c.send.Offset || m.recv.Offset != c.recv.Offset {
				c.pinClass = true // its bytes moved: only its class names it
			}
		}
	}
	var out planList
	out.tried = opt.Tried
	// Round 0, single faults: rank by support, then messages sent while
	// the workload runs before those of start-up (a fault before the first
	// write can only delay start-up; systems with long handshakes would
	// otherwise spend the budget there), then in the order they were sent,
	// each message's faults together, lightest first: every message gets
	// asked about before a later one is.
	ranked := make([]*candidate, 0, len(order))
	for _, k := range order {
		ranked = append(ranked, cands[k])
	}
	slices.SortStableFunc(ranked, func(a, b *candidate) int {
		return cmp.Or(cmp.Compare(b.runs, a.runs), cmp.Compare(b2i(b.during), b2i(a.during)), cmp.Compare(a.ord, b.ord))
	})
	for _, c := range ranked {
		why := "every observed schedule's outcome depends on this message"
		if c.runs < total {
			why = fmt.Sprintf("the outcome depends on this message in %d of %d runs", c.runs, total)
		}
		ev := format.Evidence{Runs: c.runs, OfRuns: total, Schedules: c.schedules, Support: ratio(c.runs, total)}
		for _, f := range faultsFor(&c.message, opt.Delay, outcome) {
			out.add([]format.Fault{f}, fmt.Sprintf("%s: %s", why, describe(&c.message)), ev)
		}
	}
	// Combinations: messages that together meet every schedule's lineage.
	if opt.K >= 2 && len(base) > 1 {
		for _, set := range hittingSets(lineages, opt.K, ranked) {
			var faults []format.Fault
			runs := 0
			var ids []string
			for _, c := range set {
				faults = append(faults, faultsFor(&c.message, "", outcome)[0])
				runs = max(runs, c.runs)
				ids = append(ids, c.schedules...)
			}
			slices.Sort(ids)
			out.add(faults, fmt.Sprintf("together these %d messages carry the outcome in every observed schedule", len(set)),
				format.Evidence{Runs: total, OfRuns: total, Schedules: slices.Compact(ids), Support: 1})
		}
	}
	// Next round: recovery paths that injected runs showed. Their messages
	// that no fault-free schedule has get faults on top of the plan that
	// opened them.
	for _, s := range faulty {
		parent := opt.parent(s.Plan)
		if parent == nil {
			continue
		}
		for _, m := range lineage(s, outcome) {
			if cands[m.key] != nil {
				continue
			}
			f := faultsFor(&m, "", outcome)[0]
			faults := append(slices.Clone(parent.Faults), f)
			out.add(faults, fmt.Sprintf("the recovery path opened by %s depends on this message: %s", s.Plan, describe(&m)),
				format.Evidence{Runs: s.Runs, OfRuns: s.Runs, Schedules: []string{s.ID}, Support: 1, Round: parent.Evidence.Round + 1})
		}
	}
	plans := out.plans
	if opt.Max > 0 && len(plans) > opt.Max {
		plans = plans[:opt.Max]
	}
	for i := range plans {
		plans[i].Rank = i + 1
	}
	return plans
}

func (o Options) parent(id string) *format.Plan {
	if p, ok := o.Parents[id]; ok {
		return &p
	}
	return nil
}

// faultsFor lists the faults that take message m away, most telling first.
// The outcome nodes are never crashed or held: the question is whether the
// system handles the fault, not whether its client survives being killed.
func faultsFor(m *message, delay string, outcome func(string) bool) []format.Fault {
	sendT := format.Target{Node: m.send.Node, Thread: m.send.Thread, Syscall: class(m.send.Syscall), Conn: m.send.Conn}
	recvT := format.Target{Node: m.recv.Node, Thread: m.recv.Thread, Syscall: class(m.recv.Syscall), Conn: m.recv.Conn}
	after, before, recvAfter := ref(m.prevSend), ref(m.nextSend), ref(m.prevRecv)
	switch {
	case m.send.tied() && (m.pinClass || m.send.Offset < 0):
		// Pinned by class and ordinal: no thread, no offset, no window.
		// The receive meant is the one that gets the message's first byte.
		sendT.Thread, sendT.Conn, sendT.Class, sendT.Ordinal = "", "", m.send.Class, m.send.Ordinal
		recvT.Thread, recvT.Conn, recvT.Class, recvT.Ordinal = "", "", m.send.Class, m.send.Ordinal
		after, before, recvAfter = nil, nil, nil
	case m.send.Offset >= 0 && m.send.Conn != "" && m.recv.Offset >= 0:
		// A stream message is pinned by its offset: no thread, no window.
		sendT.Thread, sendT.Offset = "", &m.send.Offset
		recvT.Thread, recvT.Offset = "", &m.recv.Offset
		after, before, recvAfter = nil, nil, nil
	}
	var fs []format.Fault
	crash := func(t format.Target, after, before *format.EventRef) {
		if !outcome(t.Node) {
			fs = append(fs, format.Fault{Kind: format.FaultCrash, Target: t, After: after, Before: before})
		}
	}
	if m.connect {
		// A refused connect never makes its connection: name the listener,
		// and which of the node's connects to it this is.
		t := format.Target{Node: m.send.Node, Syscall: "connect", Peer: listener(&m.send), Nth: m.nth}
		return append(fs, format.Fault{Kind: format.FaultErrno, Errno: "ECONNREFUSED", Target: t})
	}
	fs = append(fs, format.Fault{Kind: format.FaultDrop, Target: sendT, After: after, Before: before})
	crash(sendT, after, before)
	crash(recvT, recvAfter, nil)
	if delay != "" && !outcome(sendT.Node) {
		fs = append(fs, format.Fault{Kind: format.FaultDelay, Duration: delay, Target: sendT, After: after, Before: before})
	}
	return fs
}

func ref(e *Event) *format.EventRef {
	if e == nil {
		return nil
	}
	return &format.EventRef{Node: e.Node, Thread: e.Thread, Seq: e.Seq, Syscall: e.Syscall}
}

// class turns a system call name into the class a fault matches, so that a
// plan made from a write also fires on a sendto in a run that used one.
func class(sys string) string {
	switch sys {
	case "write", "writev", "sendto", "sendmsg", "sendmmsg", "sendfile":
		return "send"
	case "read", "readv", "recvfrom", "recvmsg", "recvmmsg":
		return "recv"
	case "accept", "accept4":
		return "accept"
	}
	return sys
}

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

// hittingSets returns minimal sets of 2..k candidates, none of which is in
// every lineage, that together meet every lineage. It looks at the most
// supported candidates first and stops after a bounded number of sets.
func hittingSets(lineages []map[string]bool, k int, ranked []*candidate) [][]*candidate {
	var partial []*candidate
	for _, c := range ranked {
		all := true
		for _, l := range lineages {
			all = all && l[c.key]
		}
		if !all {
			partial = append(partial, c)
		}
	}
	const maxSets = 200
	var sets [][]*candidate
	var pick []*candidate
	hits := func(set []*candidate) bool {
		for _, l := range lineages {
			hit := false
			for _, c := range set {
				hit = hit || l[c.key]
			}
			if !hit {
				return false
			}
		}
		return true
	}
	var walk func(from int)
	walk = func(from int) {
		if len(sets) >= maxSets {
			return
		}
		if len(pick) >= 2 && hits(pick) {
			// minimal: no smaller subset (dropping one) still hits
			for i := range pick {
				if len(pick) > 2 && hits(slices.Delete(slices.Clone(pick), i, i+1)) {
					return
				}
			}
			sets = append(sets, slices.Clone(pick))
			return
		}
		if len(pick) == k {
			return
		}
		for i := from; i < len(partial); i++ {
			pick = append(pick, partial[i])
			walk(i + 1)
			pick = pick[:len(pick)-1]
		}
	}
	walk(0)
	return sets
}

// planList collects plans, skipping duplicates and plans already tried.
type planList struct {
	plans []format.Plan
	seen  map[string]bool
	tried map[string]bool
}

func (l *planList) add(faults []format.Fault, why string, ev format.Evidence) {
	id := ID(faults)
	if l.seen[id] || l.tried[id] {
		return
	}
	if l.seen == nil {
		l.seen = map[string]bool{}
	}
	l.seen[id] = true
	l.plans = append(l.plans, format.Plan{V: format.VersionFor(faults), ID: id, Faults: faults, Why: why, Evidence: ev})
}

// ID names a plan by what it does: two plans with the same faults have the
// same id in every run of the planner, so results can be matched to plans.
func ID(faults []format.Fault) string {
	b, _ := json.Marshal(faults)
	sum := sha256.Sum256(b)
	return "p" + hex.EncodeToString(sum[:5])
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
