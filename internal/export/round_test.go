package export

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet/file"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"

	"github.com/boxofpain/pain/format"
)

var update = flag.Bool("update", false, "rewrite golden files")

// roundTables are the tables of a round's files: results of a real demo
// (with a not-fired and a -repeat line added), plans and a schedules file
// from package format's test data.
func roundTables(t *testing.T) map[string]*Table {
	t.Helper()
	f, err := os.Open("testdata/results.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rs, err := format.ReadResults(f, "results.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	pf, err := os.Open("../../format/testdata/plans.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	ps, err := format.ReadPlans(pf, "plans.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	s, err := format.ReadSchedules("../../format/testdata/schedules-v3.arrows")
	if err != nil {
		t.Fatal(err)
	}
	return map[string]*Table{"results": ResultsTable(rs), "plans": PlansTable(ps), "schedules": SchedulesTable(s)}
}

// The CSV of each table is a golden file (-update rewrites them), and its
// Parquet file reads back, with Arrow's own reader, to the same text: the
// same columns, values and nulls.
func TestRoundTables(t *testing.T) {
	for kind, tbl := range roundTables(t) {
		var c bytes.Buffer
		if err := WriteTable(&c, CSV, tbl, kind); err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", kind+".csv")
		if *update {
			os.WriteFile(golden, c.Bytes(), 0o644)
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if c.String() != string(want) {
			t.Errorf("%s: CSV changed (run with -update if intended):\n%s", kind, c.String())
		}
		var p bytes.Buffer
		if err := WriteTable(&p, Parquet, tbl, kind+".x"); err != nil {
			t.Fatal(err)
		}
		if got := parquetCSV(t, p.Bytes(), kind); got != c.String() {
			t.Errorf("%s: Parquet reads back as\n%s\nwant\n%s", kind, got, c.String())
		}
	}
}

// parquetCSV reads a Parquet file and writes it as WriteTable's CSV,
// checking its pain.kind (a table's; "" for a trace).
func parquetCSV(t *testing.T, data []byte, kind string) string {
	t.Helper()
	pf, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	if v := pf.MetaData().KeyValueMetadata().FindValue("pain.kind"); kind != "" && (v == nil || *v != kind) {
		t.Errorf("pain.kind %v, want %s", v, kind)
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	rows := make([][]string, tbl.NumRows()+1)
	for i := range rows {
		rows[i] = make([]string, tbl.NumCols())
	}
	for j := range int(tbl.NumCols()) {
		rows[0][j] = tbl.Schema().Field(j).Name
		i := 1
		for _, ch := range tbl.Column(j).Data().Chunks() {
			for k := range ch.Len() {
				if b, ok := ch.(*array.Binary); ok && !ch.IsNull(k) {
					rows[i][j] = hex.EncodeToString(b.Value(k)) // as the CSV writes payloads
				} else if !ch.IsNull(k) {
					rows[i][j] = ch.ValueStr(k)
				}
				i++
			}
		}
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.WriteAll(rows)
	return b.String()
}

// The JSON Lines of a table: a row per object, its columns in order,
// nulls as null.
func TestRoundTableJSONL(t *testing.T) {
	var j bytes.Buffer
	if err := WriteTable(&j, JSONL, roundTables(t)["results"], "results.jsonl"); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(j.String()), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], `{"run":"p9de6cbf57a@20261207T040901.000000001Z","plan":"p9de6cbf57a","verdict":"survived","fired":true,"check":0,`) ||
		!strings.HasPrefix(lines[2], `{"run":null,"plan":"p9","verdict":"not-fired","fired":false,"check":0,"faults":"fail the 99th send by workload with EIO","fired_fault":null,`) {
		t.Errorf("JSON lines:\n%s", j.String())
	}
}

// Flags.Read takes a schedules file by name or on stdin (read once: what
// was read as a trace's head is read again): its text form without -as,
// its table with it.
func TestReadSchedules(t *testing.T) {
	const path = "../../format/testdata/schedules-v3.arrows"
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("testdata/schedules.csv")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{path, "-"} {
		var out, errs bytes.Buffer
		rf := Flags{As: "csv"}
		if err := rf.Read("tool", name, "", bytes.NewReader(data), &out, &errs); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if out.String() != string(want) {
			t.Errorf("%s: CSV\n%s\nwant\n%s", name, out.String(), want)
		}
		out.Reset()
		if err := (&Flags{}).Read("tool", name, "", bytes.NewReader(data), &out, &errs); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !strings.HasPrefix(out.String(), "# pain schedules v3\n") {
			t.Errorf("%s: text form\n%s", name, out.String())
		}
	}
}

// A trace's Parquet file holds what its CSV holds, every column, with
// Parquet types a reader maps back (strings, int32, int64, an unsigned
// payload_hash, binary payloads, nulls where there is no payload) and the
// trace's metadata.
func TestTraceParquetMatchesCSV(t *testing.T) {
	for _, name := range []string{"sample-v2.arrows", "sample-v3.arrows"} {
		path := filepath.Join("../../format/testdata", name)
		var c, p bytes.Buffer
		if err := Write(&c, CSV, open(t, path), nil); err != nil {
			t.Fatal(err)
		}
		if err := Write(&p, Parquet, open(t, path), nil); err != nil {
			t.Fatal(err)
		}
		pf, err := file.NewParquetReader(bytes.NewReader(p.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		kv := pf.MetaData().KeyValueMetadata()
		if v := kv.FindValue("pain.source"); v == nil || *v != name {
			t.Errorf("%s: pain.source %v", name, v)
		}
		if v := kv.FindValue("pain.run"); v == nil || *v != "run-0001" {
			t.Errorf("%s: pain.run %v", name, v)
		}
		if ty := pf.MetaData().Schema.Column(pf.MetaData().Schema.ColumnIndexByName("payload_hash")).LogicalType(); ty.String() != "Int(bitWidth=64, isSigned=false)" {
			t.Errorf("%s: payload_hash is %s", name, ty)
		}
		pf.Close()
		if got := parquetCSV(t, p.Bytes(), ""); got != c.String() {
			t.Errorf("%s: Parquet reads back as\n%s\nwant\n%s", name, got, c.String())
		}
	}
}
