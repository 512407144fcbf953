package export

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
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

func open(t *testing.T, path string) *format.Reader {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	r, err := format.NewReader(f, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// readBack reads every Parquet file a glob matches with Arrow Go's own
// reader and returns the run column of each row and each file's pain.run.
func readBack(t *testing.T, glob string) (runs []string, metaRuns []string) {
	t.Helper()
	paths, _ := filepath.Glob(glob)
	if len(paths) == 0 {
		t.Fatalf("no files match %s", glob)
	}
	for _, p := range paths {
		pf, err := file.OpenParquetFile(p, false)
		if err != nil {
			t.Fatal(err)
		}
		if v := pf.MetaData().KeyValueMetadata().FindValue("pain.run"); v != nil {
			metaRuns = append(metaRuns, *v)
		}
		fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
		if err != nil {
			t.Fatal(err)
		}
		tbl, err := fr.ReadTable(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if got := tbl.Schema().Field(0).Name; got != "run" {
			t.Fatalf("%s: first column %q, want run", p, got)
		}
		for _, ch := range tbl.Column(0).Data().Chunks() {
			s := ch.(*array.String)
			for i := range s.Len() {
				runs = append(runs, s.Value(i))
			}
		}
		tbl.Release()
		pf.Close()
	}
	return runs, metaRuns
}

func TestParquetByGlob(t *testing.T) {
	dir := t.TempDir()
	want := map[string]int{}
	for _, name := range []string{"sample-v1.arrows", "sample-v2.arrows"} {
		r := open(t, filepath.Join("../../format/testdata", name))
		out := filepath.Join(dir, strings.TrimSuffix(name, ".arrows")+".parquet")
		var buf bytes.Buffer
		if err := Write(&buf, Parquet, r, nil); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		want[r.Meta().Run] += 6
	}
	runs, metaRuns := readBack(t, filepath.Join(dir, "*.parquet"))
	got := map[string]int{}
	for _, r := range runs {
		got[r]++
	}
	if len(got) != 1 || got["run-0001"] != want["run-0001"] {
		t.Errorf("run column counts %v, want %v", got, want)
	}
	if strings.Join(metaRuns, ",") != "run-0001,run-0001" {
		t.Errorf("pain.run in the key-value metadata: %v", metaRuns)
	}
}

func TestCSVAndJSONL(t *testing.T) {
	var c, j bytes.Buffer
	if err := Write(&c, CSV, open(t, "../../format/testdata/sample-v2.arrows"), nil); err != nil {
		t.Fatal(err)
	}
	keepSend := func(e *format.Event) bool { return e.Syscall == "sendto" }
	if err := Write(&j, JSONL, open(t, "../../format/testdata/sample-v2.arrows"), keepSend); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&c).ReadAll()
	if err != nil || len(recs) != 7 || strings.Join(recs[0], ",") != strings.Join(Columns(), ",") {
		t.Fatalf("CSV: %d records, %v: %v", len(recs), err, recs)
	}
	if got := j.String(); strings.Count(got, "\n") != 1 || !strings.Contains(got, `"conn":"client:main:s0>kv1:listen0"`) ||
		!strings.Contains(got, `"payload":"707574206b312076310a"`) || !strings.HasPrefix(got, `{"run":"run-0001","start_ns":9060,`) {
		t.Errorf("JSON lines: %s", got)
	}
	var row map[string]any
	if err := json.Unmarshal(j.Bytes(), &row); err != nil || row["dur_ns"] != 40.0 {
		t.Errorf("JSON row does not read back: %v %v", err, row)
	}
}
