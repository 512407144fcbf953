package format

// # Schedules (.arrows, pain.kind "schedules")
//
// pain-track writes what it learned from many traces as one Arrow IPC
// stream, zstd-compressed like a trace, with pain.kind "schedules" and the
// same pain.format version rules. Its extra metadata:
//
//	pain.x.granularity   message, syscall or class: what one graph event is
//	pain.x.canon         version of the canonical form the schedule ids
//	                     hash (internal/hb.CanonVersion); ids of different
//	                     versions are not comparable
//	pain.x.plans         when runs were injected: the plans applied, as
//	                     JSON {"plans": [plan, ...], "runs": {run: plan
//	                     id}}, each plan read with its version checked
//	pain.x.traces        where the runs' traces were: JSON {run: [file,
//	                     ...]}, paths relative to the schedules file's
//	                     folder, so that pictures drawn from the file later
//	                     place calls at their real times while the traces
//	                     are there (no part of any schedule)
//	pain.x.untied        at class granularity, the messages tied to no
//	                     workload request per schedule and message class:
//	                     JSON {id: [{"class", "min", "max"}, ...]}, the
//	                     fewest and the most of the schedule's runs (a
//	                     class a run did not use counts 0); no part of
//	                     the schedule's id. Readers before it ignore it
//
// It is one table of records; the rec column says what each row is and
// which other columns it uses (the others hold their empty value):
//
//	schedule  schedule, rank, runs: a schedule, its 1-based rank and how
//	          many runs showed it. Its run, event and edge rows follow.
//	run       schedule, run: one run that showed the schedule
//	event     schedule, index, node, thread, seq, count, syscall, fd_kind,
//	          local, peer, conn, offset, ret, errno, payload_hash, arg,
//	          role, time_ns, dur_ns: event number index (0, 1, ...) of
//	          the schedule's happens-before graph
//	edge      schedule, from, to, kind: event from happens before event to
//	support   key, kind, runs: a message edge, named the same in every run
//	          and schedule, and the number of runs it occurs in
//	unsynced  schedule, index, local, count, ret: when event index (of a
//	          system node) returned, its node had count writes (ret bytes)
//	          to file local not yet durable (ordered mode, package durable);
//	          after the schedule's events, in index order
//	syncs     schedule, node, local, syscall, count: node synced file
//	          local count times with syscall (fsync, fdatasync) in the run
//
// unsynced and syncs (format version 3) come from the schedule's one run,
// like seq and time_ns, and are not part of the schedule; a reader of
// version 2 refuses the file by its version.
//
// Schedules come in rank order (most runs first), then support rows, most
// runs first. The total number of runs is the sum of the schedules' runs.
//
// Graph events are in stable names and grouped by thread: rows of one node
// and thread are consecutive, threads sorted by node and thread name, each
// in program order. At message granularity one event is one message: count
// consecutive calls of one thread on one stream, seq being that of the
// first one (the call a fault on "that message" acts on), ret the bytes of
// all of them and payload_hash that of the first. Other fields are those of
// the trace columns of the same name, with fds and pids reduced to success
// or failure in ret, and raw addresses with an ephemeral port written
// ADDR:ephemeral. role is workload, check or system. seq, payload_hash and
// time_ns come from one run of the schedule (the one whose name sorts
// first) and are not part of the schedule: two runs with different values
// there have the same schedule. So does dur_ns, the first call's time in
// the kernel, with which a reader names messages as the injector does
// (package msgclass: a send as of its entry); it came after the first
// version 3 files, which end at time_ns and read with dur_ns 0.
//
// Edge kinds: program (the next event of the same thread), clone (clone,
// fork or vfork -> the child's first event), exec (execve -> the first
// event of the node it became), exit (a thread's end -> the wait4 that
// reaped it), signal (kill -> the death it caused), connect (connect ->
// accept), stream (the send that wrote byte b -> the receive that read it),
// pipe (the same on a pipe), datagram (send -> receive of the same
// datagram), close (the other end's close or shutdown -> the receive that
// saw end of file). The last five are messages.
//
// A support key names a message edge by its two events: a stream transfer
// by node/thread, syscall, conn and byte range (kv1/main read
// c:main:s0>kv1:listen0@0+12), any other event by node/thread, its position
// in the thread in brackets, syscall and conn or endpoints
// (c/main[2] connect c:main:s0>kv1:listen0); the edge is "FROM -> TO".
//
// The schedule id is 12 hex digits of a SHA-256 of the canonical form:
// thread names and lengths, each event's syscall, fd_kind, local, peer,
// conn, offset, ret, errno and arg, and the non-program edges. Two runs
// with the same per-thread event sequences and the same message matching
// have the same id, whatever their pids, fds, ports and timing.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/ipc"
	"github.com/apache/arrow/go/v17/arrow/memory"
)

// KindSchedules is the KeyKind of a schedules file.
const KindSchedules = "schedules"

// scheduleBatchRows is the batch size of a schedules file: it is written
// once, all at once, so batches can be large; each batch costs the Arrow
// writer a new zstd encoder.
const scheduleBatchRows = 1 << 16

// Schedules is the content of a schedules file.
type Schedules struct {
	Meta        Meta
	Granularity string // message or syscall
	Schedules   []Schedule
	Support     []Support
	// Injected holds the plan applied in each injected run, by run name
	// (the trace's Meta.Plan); fault-free runs are not in it.
	Injected map[string]*Plan
	// Traces holds each run's trace files (pain.x.traces), as the writer
	// gives them; nil when not known.
	Traces map[string][]string
	// Untied holds, by schedule id, the messages tied to no workload
	// request (timers, heartbeats, start-up) that each connection class
	// carried in the schedule's runs (pain.x.untied), sorted by class.
	Untied map[string][]UntiedCount
}

// UntiedCount is how many messages tied to no workload request a message
// class (package msgclass's name, its tag "-") carried in a run: the
// fewest and the most over a schedule's runs.
type UntiedCount struct {
	Class string `json:"class"`
	Min   int    `json:"min"`
	Max   int    `json:"max"`
}

// Schedule is one schedule: its id, rank, runs and happens-before graph.
type Schedule struct {
	ID     string
	Rank   int
	Runs   []string
	Events []GraphEvent
	Edges  []GraphEdge
	Syncs  []FileSyncs
}

// GraphEvent is one event of a schedule's graph; see the package comment
// in schedules.go for the meaning of each field.
type GraphEvent struct {
	Node        string
	Thread      string
	Seq         int64
	Count       int64
	Syscall     string
	FDKind      string
	Local       string
	Peer        string
	Conn        string
	Offset      int64
	Ret         int64
	Errno       string
	PayloadHash uint64
	Arg         string
	Role        string
	TimeNS      int64
	DurNS       int64
	Unsynced    []Unsynced
}

// Unsynced is a file's writes not yet durable at a graph event.
type Unsynced struct {
	File   string
	Writes int
	Bytes  int64
}

// FileSyncs is how many times a node synced a file with one call.
type FileSyncs struct {
	Node, File, Call string
	Syncs            int
}

// GraphEdge is one happens-before edge: event From before event To.
type GraphEdge struct {
	From, To int
	Kind     string
}

// Support is how many runs a message edge occurs in.
type Support struct {
	Key  string
	Kind string
	Runs int
}

// Record kinds of the rec column.
const (
	recSchedule = "schedule"
	recRun      = "run"
	recEvent    = "event"
	recEdge     = "edge"
	recSupport  = "support"
	recUnsynced = "unsynced"
	recSyncs    = "syncs"
)

// schedRow is one row of a schedules file.
type schedRow struct {
	Rec, Schedule   string
	Rank, Runs      int64
	Run             string
	Index, From, To int64
	Kind, Key       string
	E               GraphEvent
}

type schedColumn struct {
	name string
	typ  arrow.DataType
	put  func(b array.Builder, r *schedRow)
	get  func(a arrow.Array, i int, r *schedRow, in *interner)
}

func sI64(name string, f func(*schedRow) *int64) schedColumn {
	return schedColumn{name, arrow.PrimitiveTypes.Int64,
		func(b array.Builder, r *schedRow) { b.(*array.Int64Builder).Append(*f(r)) },
		func(a arrow.Array, i int, r *schedRow, _ *interner) { *f(r) = a.(*array.Int64).Value(i) }}
}

func sStr(name string, f func(*schedRow) *string) schedColumn {
	return schedColumn{name, arrow.BinaryTypes.String,
		func(b array.Builder, r *schedRow) { b.(*array.StringBuilder).Append(*f(r)) },
		func(a arrow.Array, i int, r *schedRow, in *interner) { *f(r) = in.get(a.(*array.String).Value(i)) }}
}

// scheduleColumns is the schema of a schedules file, version 1, in order.
var scheduleColumns = []schedColumn{
	sStr("rec", func(r *schedRow) *string { return &r.Rec }),
	sStr("schedule", func(r *schedRow) *string { return &r.Schedule }),
	sI64("rank", func(r *schedRow) *int64 { return &r.Rank }),
	sI64("runs", func(r *schedRow) *int64 { return &r.Runs }),
	sStr("run", func(r *schedRow) *string { return &r.Run }),
	sI64("index", func(r *schedRow) *int64 { return &r.Index }),
	sI64("from", func(r *schedRow) *int64 { return &r.From }),
	sI64("to", func(r *schedRow) *int64 { return &r.To }),
	sStr("kind", func(r *schedRow) *string { return &r.Kind }),
	sStr("key", func(r *schedRow) *string { return &r.Key }),
	sStr("node", func(r *schedRow) *string { return &r.E.Node }),
	sStr("thread", func(r *schedRow) *string { return &r.E.Thread }),
	sI64("seq", func(r *schedRow) *int64 { return &r.E.Seq }),
	sI64("count", func(r *schedRow) *int64 { return &r.E.Count }),
	sStr("syscall", func(r *schedRow) *string { return &r.E.Syscall }),
	sStr("fd_kind", func(r *schedRow) *string { return &r.E.FDKind }),
	sStr("local", func(r *schedRow) *string { return &r.E.Local }),
	sStr("peer", func(r *schedRow) *string { return &r.E.Peer }),
	sStr("conn", func(r *schedRow) *string { return &r.E.Conn }),
	sI64("offset", func(r *schedRow) *int64 { return &r.E.Offset }),
	sI64("ret", func(r *schedRow) *int64 { return &r.E.Ret }),
	sStr("errno", func(r *schedRow) *string { return &r.E.Errno }),
	{"payload_hash", arrow.PrimitiveTypes.Uint64,
		func(b array.Builder, r *schedRow) { b.(*array.Uint64Builder).Append(r.E.PayloadHash) },
		func(a arrow.Array, i int, r *schedRow, _ *interner) { r.E.PayloadHash = a.(*array.Uint64).Value(i) }},
	sStr("arg", func(r *schedRow) *string { return &r.E.Arg }),
	sStr("role", func(r *schedRow) *string { return &r.E.Role }),
	sI64("time_ns", func(r *schedRow) *int64 { return &r.E.TimeNS }),
	sI64("dur_ns", func(r *schedRow) *int64 { return &r.E.DurNS }),
}

// firstScheduleColumns is how many columns schedules files had before
// dur_ns: a file of version 3 may end there, and then reads with dur_ns 0.
// A reader that knows only those columns reads a file with dur_ns whole.
const firstScheduleColumns = 26

func schedulesSchema(m Meta) *arrow.Schema {
	fields := make([]arrow.Field, len(scheduleColumns))
	for i, c := range scheduleColumns {
		fields[i] = arrow.Field{Name: c.name, Type: c.typ}
	}
	keys, values := m.pairs()
	md := arrow.NewMetadata(keys, values)
	return arrow.NewSchema(fields, &md)
}

// WriteSchedules writes s to w as a schedules file.
func WriteSchedules(w io.Writer, s *Schedules) error {
	sw := NewSchedulesWriter(w, s)
	for i := range s.Schedules {
		if err := sw.Schedule(&s.Schedules[i]); err != nil {
			sw.Close(nil)
			return err
		}
	}
	return sw.Close(s.Support)
}

// SchedulesWriter writes a schedules file one schedule at a time, so that a
// writer needs only one schedule's graph in memory at once.
type SchedulesWriter struct {
	iw   *ipc.Writer
	b    *array.RecordBuilder
	rows int
	err  error
	row  schedRow
}

// NewSchedulesWriter starts a schedules file on w with the metadata,
// granularity and injected plans of head (its schedules and support are
// not written). Call Schedule for each schedule in rank order, then Close
// with the support table.
func NewSchedulesWriter(w io.Writer, head *Schedules) *SchedulesWriter {
	m := head.Meta
	m.Kind = KindSchedules
	extra := make(map[string]string, len(m.Extra)+2)
	for k, v := range m.Extra {
		extra[k] = v
	}
	extra["granularity"] = head.Granularity
	if len(head.Injected) > 0 {
		extra[plansKey] = encodeInjected(head.Injected)
	}
	if len(head.Traces) > 0 {
		b, err := MarshalJSON(head.Traces) // keys sorted
		if err != nil {
			panic(err) // strings always marshal
		}
		extra[tracesKey] = string(b)
	}
	if len(head.Untied) > 0 {
		b, err := MarshalJSON(head.Untied)
		if err != nil {
			panic(err) // strings and ints always marshal
		}
		extra[untiedKey] = string(b)
	}
	m.Extra = extra
	schema := schedulesSchema(m)
	mem := memory.NewGoAllocator()
	return &SchedulesWriter{
		iw: newIPCWriter(w, schema, mem, nil),
		b:  array.NewRecordBuilder(mem, schema),
	}
}

func (sw *SchedulesWriter) flush() {
	if sw.rows == 0 || sw.err != nil {
		return
	}
	rec := sw.b.NewRecord()
	defer rec.Release()
	sw.rows = 0
	if err := sw.iw.Write(rec); err != nil {
		sw.err = fmt.Errorf("writing schedules: %w", err)
	}
}

func (sw *SchedulesWriter) put() {
	for i, c := range scheduleColumns {
		c.put(sw.b.Field(i), &sw.row)
	}
	sw.row = schedRow{}
	if sw.rows++; sw.rows >= scheduleBatchRows {
		sw.flush()
	}
}

// Schedule writes one schedule.
func (sw *SchedulesWriter) Schedule(sc *Schedule) error {
	if sw.err != nil {
		return sw.err
	}
	sw.row = schedRow{Rec: recSchedule, Schedule: sc.ID, Rank: int64(sc.Rank), Runs: int64(len(sc.Runs))}
	sw.put()
	for _, run := range sc.Runs {
		sw.row = schedRow{Rec: recRun, Schedule: sc.ID, Run: run}
		sw.put()
	}
	for i := range sc.Events {
		sw.row = schedRow{Rec: recEvent, Schedule: sc.ID, Index: int64(i), E: sc.Events[i]}
		sw.put()
	}
	for _, d := range sc.Edges {
		sw.row = schedRow{Rec: recEdge, Schedule: sc.ID, From: int64(d.From), To: int64(d.To), Kind: d.Kind}
		sw.put()
	}
	for i := range sc.Events {
		for _, u := range sc.Events[i].Unsynced {
			sw.row = schedRow{Rec: recUnsynced, Schedule: sc.ID, Index: int64(i), E: GraphEvent{Local: u.File, Count: int64(u.Writes), Ret: u.Bytes}}
			sw.put()
		}
	}
	for _, f := range sc.Syncs {
		sw.row = schedRow{Rec: recSyncs, Schedule: sc.ID, E: GraphEvent{Node: f.Node, Local: f.File, Syscall: f.Call, Count: int64(f.Syncs)}}
		sw.put()
	}
	return sw.err
}

// Close writes the support table and ends the file. It does not close the
// underlying io.Writer.
func (sw *SchedulesWriter) Close(support []Support) error {
	for _, sp := range support {
		sw.row = schedRow{Rec: recSupport, Key: sp.Key, Kind: sp.Kind, Runs: int64(sp.Runs)}
		sw.put()
	}
	sw.flush()
	if err := sw.iw.Close(); sw.err == nil && err != nil {
		sw.err = fmt.Errorf("closing schedules: %w", err)
	}
	sw.b.Release()
	return sw.err
}

// ReadSchedules reads a schedules file.
func ReadSchedules(path string) (*Schedules, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadSchedulesFrom(f, path)
}

// ReadSchedulesFrom reads a schedules file from r; name is used in errors.
// A file cut short is an error (ErrTruncated): a partial aggregate would
// merge into wrong counts.
func ReadSchedulesFrom(r io.Reader, name string) (s *Schedules, err error) {
	defer catch(name, &err)
	msgs := &messages{r: r}
	ir, meta, err := openStream(msgs, KindSchedules, checkScheduleSchema)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	defer ir.Release()
	s = &Schedules{Meta: meta, Granularity: meta.Extra["granularity"]}
	if v, ok := meta.Extra[plansKey]; ok {
		if s.Injected, err = decodeInjected(v); err != nil {
			return nil, fmt.Errorf("%s: pain.x.%s: %w", name, plansKey, err)
		}
	}
	if v, ok := meta.Extra[tracesKey]; ok {
		if err := json.Unmarshal([]byte(v), &s.Traces); err != nil {
			return nil, fmt.Errorf("%s: pain.x.%s: %w", name, tracesKey, errorf(ErrCorrupt, "bad JSON: %v", err))
		}
	}
	if v, ok := meta.Extra[untiedKey]; ok {
		if err := decodeUntied(v, &s.Untied); err != nil {
			return nil, fmt.Errorf("%s: pain.x.%s: %w", name, untiedKey, err)
		}
	}
	delete(s.Meta.Extra, "granularity")
	delete(s.Meta.Extra, plansKey)
	delete(s.Meta.Extra, tracesKey)
	delete(s.Meta.Extra, untiedKey)
	if len(s.Meta.Extra) == 0 {
		s.Meta.Extra = nil
	}
	if s.Granularity != "message" && s.Granularity != "syscall" && s.Granularity != "class" {
		return nil, fmt.Errorf("%s: %w", name, errorf(ErrCorrupt, "granularity %q is not message, syscall or class", s.Granularity))
	}
	cols := scheduleColumnsIn(ir.Schema()) // checked by checkScheduleSchema
	var in interner
	var rows int64
	var runs []int64 // declared run count of each schedule
	for batch := 1; ir.Next(); batch++ {
		rec := ir.Record()
		if int(rec.NumCols()) < len(cols) {
			return nil, fmt.Errorf("%s: %w", name, errorf(ErrCorrupt, "batch %d has %d columns", batch, rec.NumCols()))
		}
		n := int(rec.NumRows())
		for c := range cols {
			if rec.Column(c).Len() != n {
				return nil, fmt.Errorf("%s: %w", name, errorf(ErrCorrupt, "batch %d column %s is short", batch, cols[c].name))
			}
		}
		for i := 0; i < n; i++ {
			var row schedRow
			for c, col := range cols {
				col.get(rec.Column(c), i, &row, &in)
			}
			rows++
			if err := s.add(&row, &runs); err != nil {
				return nil, fmt.Errorf("%s: %w", name, errorf(ErrCorrupt, "row %d: %v", rows, err))
			}
		}
	}
	if err := ir.Err(); err != nil || !msgs.eos {
		if err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%s: %w", name, errorf(ErrTruncated, "schedules file cut short after %d rows", rows))
		}
		return nil, fmt.Errorf("%s: %w", name, errorf(ErrCorrupt, "after %d rows: %v", rows, err))
	}
	for i, sc := range s.Schedules {
		if int64(len(sc.Runs)) != runs[i] {
			return nil, fmt.Errorf("%s: %w", name, errorf(ErrCorrupt, "schedule %s says %d runs and lists %d", sc.ID, runs[i], len(sc.Runs)))
		}
	}
	return s, nil
}

func checkScheduleSchema(sc *arrow.Schema, _ Meta) error {
	cols := scheduleColumnsIn(sc)
	return checkFields(sc, len(cols), func(i int) (string, arrow.DataType) {
		return cols[i].name, cols[i].typ
	})
}

// scheduleColumnsIn returns the columns a schedules file of schema sc
// has: all of them, or those before dur_ns.
func scheduleColumnsIn(sc *arrow.Schema) []schedColumn {
	if sc.NumFields() < len(scheduleColumns) {
		return scheduleColumns[:firstScheduleColumns]
	}
	return scheduleColumns
}

// add appends one row, checking that it is where the format says.
func (s *Schedules) add(r *schedRow, runs *[]int64) error {
	var cur *Schedule
	if n := len(s.Schedules); n > 0 {
		cur = &s.Schedules[n-1]
	}
	inCur := func() error {
		if cur == nil || r.Schedule != cur.ID {
			return fmt.Errorf("%s row for schedule %q outside it", r.Rec, r.Schedule)
		}
		if len(s.Support) > 0 {
			return fmt.Errorf("%s row after the support rows", r.Rec)
		}
		return nil
	}
	switch r.Rec {
	case recSchedule:
		if r.Schedule == "" || r.Runs < 0 || r.Rank != int64(len(s.Schedules)+1) {
			return fmt.Errorf("bad schedule row (id %q, rank %d, runs %d)", r.Schedule, r.Rank, r.Runs)
		}
		if len(s.Support) > 0 {
			return fmt.Errorf("schedule row after the support rows")
		}
		s.Schedules = append(s.Schedules, Schedule{ID: r.Schedule, Rank: int(r.Rank)})
		*runs = append(*runs, r.Runs)
	case recRun:
		if err := inCur(); err != nil {
			return err
		}
		cur.Runs = append(cur.Runs, r.Run)
	case recEvent:
		if err := inCur(); err != nil {
			return err
		}
		if r.Index != int64(len(cur.Events)) {
			return fmt.Errorf("event %d where %d was due", r.Index, len(cur.Events))
		}
		cur.Events = append(cur.Events, r.E)
	case recEdge:
		if err := inCur(); err != nil {
			return err
		}
		if r.From < 0 || r.From > 1<<31 || r.To < 0 || r.To > 1<<31 {
			return fmt.Errorf("edge %d -> %d", r.From, r.To)
		}
		cur.Edges = append(cur.Edges, GraphEdge{From: int(r.From), To: int(r.To), Kind: r.Kind})
	case recUnsynced:
		if err := inCur(); err != nil {
			return err
		}
		if r.Index < 0 || r.Index >= int64(len(cur.Events)) || r.E.Count < 0 {
			return fmt.Errorf("unsynced row for event %d of %d", r.Index, len(cur.Events))
		}
		e := &cur.Events[r.Index]
		e.Unsynced = append(e.Unsynced, Unsynced{File: r.E.Local, Writes: int(r.E.Count), Bytes: r.E.Ret})
	case recSyncs:
		if err := inCur(); err != nil {
			return err
		}
		cur.Syncs = append(cur.Syncs, FileSyncs{Node: r.E.Node, File: r.E.Local, Call: r.E.Syscall, Syncs: int(r.E.Count)})
	case recSupport:
		if r.Key == "" || r.Runs < 0 || r.Runs > 1<<40 {
			return fmt.Errorf("bad support row (key %q, runs %d)", r.Key, r.Runs)
		}
		s.Support = append(s.Support, Support{Key: r.Key, Kind: r.Kind, Runs: int(r.Runs)})
	default:
		return fmt.Errorf("unknown record %q", r.Rec)
	}
	return nil
}

// WriteSchedulesText writes the text form of a schedules file: a header,
// then per schedule a line with its rank, id and runs, its run names, its
// events (index, then the event as node thread #seq syscall key=value...)
// and its non-program edges, then the support table.
func WriteSchedulesText(w io.Writer, s *Schedules) error {
	var b strings.Builder
	m := s.Meta
	m.Kind = KindSchedules
	if m.Version == 0 {
		m.Version = Version
	}
	if err := WriteTextHeader(&b, m); err != nil {
		return err
	}
	fmt.Fprintf(&b, "# granularity: %s\n", strconv.Quote(s.Granularity))
	for _, run := range slices.Sorted(maps.Keys(s.Injected)) {
		fmt.Fprintf(&b, "# injected %s: %s\n", strconv.Quote(run), s.Injected[run].ID)
	}
	for _, run := range slices.Sorted(maps.Keys(s.Traces)) {
		fmt.Fprintf(&b, "# traces %s:", strconv.Quote(run))
		for _, f := range s.Traces[run] {
			fmt.Fprintf(&b, " %s", strconv.Quote(f))
		}
		b.WriteString("\n")
	}
	for _, sc := range s.Schedules {
		fmt.Fprintf(&b, "schedule %d %s runs=%d\n", sc.Rank, sc.ID, len(sc.Runs))
		for _, r := range sc.Runs {
			fmt.Fprintf(&b, "  run %s\n", appendValue(nil, r))
		}
		for i, e := range sc.Events {
			ev := Event{Node: e.Node, Thread: e.Thread, Seq: e.Seq, Syscall: e.Syscall, FD: -1, FDKind: e.FDKind,
				Local: e.Local, Peer: e.Peer, Conn: e.Conn, Offset: e.Offset, Ret: e.Ret, Errno: e.Errno,
				PayloadHash: e.PayloadHash, Arg: e.Arg, TimeNS: e.TimeNS, DurNS: e.DurNS}
			fmt.Fprintf(&b, "  %d %s count=%d role=%s\n", i, AppendText(nil, &ev), e.Count, e.Role)
			for _, u := range e.Unsynced {
				fmt.Fprintf(&b, "    unsynced %s writes=%d bytes=%d\n", appendValue(nil, u.File), u.Writes, u.Bytes)
			}
		}
		for _, f := range sc.Syncs {
			fmt.Fprintf(&b, "  syncs %s %s %s x%d\n", appendValue(nil, f.Node), appendValue(nil, f.File), f.Call, f.Syncs)
		}
		for _, u := range s.Untied[sc.ID] {
			fmt.Fprintf(&b, "  untied %s %d-%d\n", strconv.Quote(u.Class), u.Min, u.Max)
		}
		for _, d := range sc.Edges {
			if d.Kind != "program" {
				fmt.Fprintf(&b, "  edge %d -> %d %s\n", d.From, d.To, d.Kind)
			}
		}
	}
	for _, sp := range s.Support {
		fmt.Fprintf(&b, "support %d %s %s\n", sp.Runs, sp.Kind, strconv.Quote(sp.Key))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// plansKey is the pain.x key of a schedules file's injected plans,
// tracesKey that of its runs' trace files, untiedKey that of their
// untied traffic.
const (
	plansKey  = "plans"
	tracesKey = "traces"
	untiedKey = "untied"
)

// decodeUntied reads pain.x.untied into *out.
func decodeUntied(v string, out *map[string][]UntiedCount) error {
	if err := json.Unmarshal([]byte(v), out); err != nil {
		return errorf(ErrCorrupt, "bad JSON: %v", err)
	}
	for id, us := range *out {
		for _, u := range us {
			if u.Class == "" || u.Min < 0 || u.Max < u.Min {
				return errorf(ErrCorrupt, "schedule %s: untied count %+v", id, u)
			}
		}
	}
	return nil
}

// injected is the JSON of pain.x.plans: each plan once, and the plan id of
// each injected run.
type injected struct {
	Plans []json.RawMessage `json:"plans"`
	Runs  map[string]string `json:"runs"`
}

func encodeInjected(byRun map[string]*Plan) string {
	in := injected{Runs: map[string]string{}}
	seen := map[string]bool{}
	for _, run := range slices.Sorted(maps.Keys(byRun)) {
		p := byRun[run]
		in.Runs[run] = p.ID
		if !seen[p.ID] {
			seen[p.ID] = true
			in.Plans = append(in.Plans, json.RawMessage(p.json()))
		}
	}
	b, err := MarshalJSON(in)
	if err != nil {
		panic(err) // plans and strings always marshal
	}
	return string(b)
}

func decodeInjected(v string) (map[string]*Plan, error) {
	var in injected
	if err := json.Unmarshal([]byte(v), &in); err != nil {
		return nil, errorf(ErrCorrupt, "bad JSON: %v", err)
	}
	byID := map[string]*Plan{}
	for _, raw := range in.Plans {
		p, err := decodePlan(raw)
		if err != nil {
			return nil, err
		}
		byID[p.ID] = p
	}
	byRun := make(map[string]*Plan, len(in.Runs))
	for run, id := range in.Runs {
		if byRun[run] = byID[id]; byRun[run] == nil {
			return nil, errorf(ErrCorrupt, "run %s: plan %s is not in the file", run, id)
		}
	}
	return byRun, nil
}
