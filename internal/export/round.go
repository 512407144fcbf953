package export

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/boxofpain/pain/format"
)

// A round's other files export as tables too, in the same formats, so that
// SQL joins them with the traces: a row per result (results.jsonl), per
// plan (plans.jsonl) or per run tracked (a schedules file), each with run
// (the trace's run name, the traces' run column) and plan (the plan id)
// where it has them. These files are small: a table is built whole, then
// written.

// Table is a round file as rows.
type Table struct {
	Kind string // results, plans or schedules
	Cols []Col
	Rows [][]any // per column: string, int64, float64, bool, or nil (null)
	// Meta is kept as Parquet key-value metadata (with pain.kind).
	Keys, Values []string
}

// Col is a column of a Table.
type Col struct {
	Name string
	Type kind
}

const (
	tStr   = kString
	tInt   = kInt64
	tFloat = kFloat64
	tBool  = kBool
)

// orNull is s, or nil (null) when empty.
func orNull(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// ResultsTable has a row per result line: run, plan, verdict, fired, check
// (null when no check ran), faults (the plan in words), where the first
// fault fired (fired_fault, fired_node, fired_thread, fired_seq,
// fired_syscall, fired_time_ns: null when none did), trace, wall_ms, runs,
// fired_runs and bugs (a single run counts as 1 run, so bugs/runs is the
// reproduction rate in every row), note and check_output. run is null in
// results written before results named their run.
func ResultsTable(rs []format.Result) *Table {
	t := &Table{Kind: "results", Cols: []Col{{"run", tStr}, {"plan", tStr}, {"verdict", tStr}, {"fired", tBool},
		{"check", tInt}, {"faults", tStr}, {"fired_fault", tInt}, {"fired_node", tStr}, {"fired_thread", tStr},
		{"fired_seq", tInt}, {"fired_syscall", tStr}, {"fired_time_ns", tInt}, {"trace", tStr}, {"wall_ms", tInt},
		{"runs", tInt}, {"fired_runs", tInt}, {"bugs", tInt}, {"note", tStr}, {"check_output", tStr}}}
	for _, r := range rs {
		var check any
		if r.Check != nil {
			check = int64(*r.Check)
		}
		where := []any{nil, nil, nil, nil, nil, nil}
		if len(r.Where) > 0 {
			w := r.Where[0]
			where = []any{int64(w.Fault), w.Node, w.Thread, w.Seq, orNull(w.Syscall), w.TimeNS}
		}
		runs, fired, bugs := int64(r.Runs), int64(r.FiredRuns), int64(r.Bugs)
		if r.Runs == 0 { // one run: its own counts
			runs, fired, bugs = 1, b2i(r.Fired), b2i(r.Verdict == format.VerdictBug)
		}
		row := []any{orNull(r.Run), r.Plan, r.Verdict, r.Fired, check, strings.Join(r.Faults, "; and ")}
		row = append(row, where...)
		row = append(row, orNull(r.Trace), r.WallMS, runs, fired, bugs, orNull(r.Note), orNull(r.CheckOutput))
		t.Rows = append(t.Rows, row)
	}
	return t
}

// PlansTable has a row per plan: plan, rank, v, kinds and nodes (of its
// faults, comma-separated, in order), words (the plan in words, as
// pain-plan -r says it), why, and its evidence: support, evidence_runs,
// of_runs, round and schedules (comma-separated ids).
func PlansTable(ps []format.Plan) *Table {
	t := &Table{Kind: "plans", Cols: []Col{{"plan", tStr}, {"rank", tInt}, {"v", tInt}, {"kinds", tStr},
		{"nodes", tStr}, {"words", tStr}, {"why", tStr}, {"support", tFloat}, {"evidence_runs", tInt},
		{"of_runs", tInt}, {"round", tInt}, {"schedules", tStr}}}
	for i := range ps {
		p := &ps[i]
		var kinds, nodes, words []string
		for j := range p.Faults {
			f := &p.Faults[j]
			kinds, nodes, words = append(kinds, f.Kind), append(nodes, f.Target.Node), append(words, f.String())
		}
		e := p.Evidence
		t.Rows = append(t.Rows, []any{p.ID, int64(p.Rank), int64(p.V), strings.Join(kinds, ","),
			strings.Join(nodes, ","), strings.Join(words, "; and "), p.Why, e.Support, int64(e.Runs),
			int64(e.OfRuns), int64(e.Round), strings.Join(e.Schedules, ",")})
	}
	return t
}

// SchedulesTable has a row per run tracked: run, schedule (its id), rank,
// runs (of that schedule), share (of all runs), granularity, and plan:
// the plan applied in an injected run, null in a fault-free one.
func SchedulesTable(s *format.Schedules) *Table {
	t := &Table{Kind: "schedules", Cols: []Col{{"run", tStr}, {"schedule", tStr}, {"rank", tInt}, {"runs", tInt},
		{"share", tFloat}, {"granularity", tStr}, {"plan", tStr}}}
	total := 0
	for _, sc := range s.Schedules {
		total += len(sc.Runs)
	}
	for _, sc := range s.Schedules {
		for _, run := range sc.Runs {
			var plan any
			if p := s.Injected[run]; p != nil {
				plan = p.ID
			}
			t.Rows = append(t.Rows, []any{run, sc.ID, int64(sc.Rank), int64(len(sc.Runs)),
				float64(len(sc.Runs)) / float64(total), s.Granularity, plan})
		}
	}
	t.Keys, t.Values = format.MetaPairs(s.Meta)
	return t
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// WriteTable writes t to w in format f; source names the file it came
// from (Parquet's pain.source).
func WriteTable(w io.Writer, f Format, t *Table, source string) error {
	switch f {
	case Parquet:
		return writeParquetTable(w, t, source)
	case CSV:
		cw := csv.NewWriter(w)
		names := make([]string, len(t.Cols))
		for i, c := range t.Cols {
			names[i] = c.Name
		}
		cw.Write(names)
		rec := make([]string, len(t.Cols))
		for _, row := range t.Rows {
			for i, v := range row {
				rec[i] = csvText(v)
			}
			cw.Write(rec)
		}
		cw.Flush()
		return cw.Error()
	case JSONL:
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		for _, row := range t.Rows {
			obj := make(orderedRow, len(row))
			for i, v := range row {
				obj[i] = kv{t.Cols[i].Name, v}
			}
			if err := enc.Encode(obj); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("unknown export format %q", f)
}

func csvText(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	panic(fmt.Sprintf("export: a table value of type %T", v))
}

// writeParquetTable writes t as one Parquet row group, every column
// nullable.
func writeParquetTable(w io.Writer, t *Table, source string) error {
	fields := make([]pqField, len(t.Cols))
	for i, c := range t.Cols {
		fields[i] = pqField{name: c.Name, kind: c.Type, nullable: true}
	}
	keys := append(append([]string{}, t.Keys...), "pain.kind", "pain.source")
	values := append(append([]string{}, t.Values...), t.Kind, source)
	pq, err := newPQ(w, fields, keys, values)
	if err != nil {
		return err
	}
	for _, row := range t.Rows {
		for i, v := range row {
			appendValue(pq.cols[i], v)
		}
		if err := pq.row(); err != nil {
			pq.close()
			return err
		}
	}
	return pq.close()
}

func appendValue(c *pqCol, v any) {
	switch v := v.(type) {
	case nil:
		c.null()
	case string:
		c.str(v)
	case int64:
		c.int64(v)
	case float64:
		c.float64(v)
	case bool:
		c.bool(v)
	default:
		panic(fmt.Sprintf("export: a table value of type %T", v))
	}
}
