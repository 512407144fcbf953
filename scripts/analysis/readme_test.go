// Package analysis runs the SQL queries the README shows over a demo
// exported to Parquet (testdata, written by make demo RUNS=6 PLANS=12 into
// out/demo/parquet: runs/ holds the traces of six fault-free runs and
// twelve injected ones of examples/kvstore, beside them the schedules,
// plans and results, all written by pain-trace -r -as parquet),
// with DuckDB's own Go library, and checks that the README shows their real
// output. It is a module of its own so that the main module does not need
// cgo or DuckDB's libraries: run it with make analysis.
package analysis

import (
	"database/sql"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"
)

// block is a fenced block of the README: a query, then its output.
var block = regexp.MustCompile("(?s)```sql\n(.*?)```\n+```text\n(.*?)```")

func TestREADMEQueries(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	pairs := block.FindAllStringSubmatch(string(readme), -1)
	if len(pairs) < 4 {
		t.Fatalf("the README shows %d queries with their output, want 4", len(pairs))
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := os.Chdir("testdata"); err != nil {
		t.Fatal(err)
	}
	for _, p := range pairs {
		got, err := query(db, p[1])
		if err != nil {
			t.Errorf("%s: %v", p[1], err)
			continue
		}
		if got != p[2] {
			t.Errorf("the README shows for\n%s\n%s\nbut DuckDB gives\n%s", p[1], p[2], got)
		}
	}
}

// query runs q and formats its rows as the README shows them: a header of
// the column names, then one line per row, columns left-aligned two spaces
// apart.
func query(db *sql.DB, q string) (string, error) {
	rows, err := db.Query(q)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return "", err
	}
	table := [][]string{cols}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return "", err
		}
		line := make([]string, len(cols))
		for i, v := range vals {
			line[i] = fmt.Sprint(v)
		}
		table = append(table, line)
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	width := make([]int, len(cols))
	for _, l := range table {
		for i, c := range l {
			width[i] = max(width[i], len(c))
		}
	}
	var b strings.Builder
	for _, l := range table {
		for i, c := range l {
			if i < len(l)-1 {
				c += strings.Repeat(" ", width[i]-len(c)+2)
			}
			b.WriteString(c)
		}
		b.WriteString("\n")
	}
	return b.String(), nil
}
