package export

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/atomicfile"
	"github.com/boxofpain/pain/internal/cli"
	"github.com/boxofpain/pain/internal/filter"
)

// Flags are pain-trace -r's: how to print or export a trace, which rows.
type Flags struct {
	As     string
	Filter filter.Options
}

// Register adds the flags to fs.
func (rf *Flags) Register(fs *flag.FlagSet) {
	fs.StringVar(&rf.As, "as", "", "with -r: export as `parquet`, csv or jsonl (to -o, or stdout)")
	fs.StringVar(&rf.Filter.Expr, "e", "", "with -r: rows to keep, strace style: trace=network,read,process,... (`expr`)")
	fs.StringVar(&rf.Filter.Nodes, "node", "", "with -r: keep rows of these `nodes` (comma-separated shell patterns)")
	fs.StringVar(&rf.Filter.Conns, "conn", "", "with -r: keep rows of these `connections` (comma-separated shell patterns)")
}

// Read prints the trace at path (- for stdin) as text, or exports it with
// -as to out (stdout when empty); both keep the rows the filter selects.
// A trace cut short is read to its end with a warning on stderr (tool:
// warning: ...). A round's other files export the same way (round.go): a
// schedules file (printed as text without -as), results or plans.
func (rf *Flags) Read(tool, path, out string, stdin io.Reader, stdout, stderr io.Writer) error {
	flt, err := filter.New(rf.Filter)
	if err != nil {
		return err
	}
	var as Format
	if rf.As != "" {
		if as, err = ParseFormat(rf.As); err != nil {
			return err
		}
	} else if out != "" {
		return errors.New("-r with -o needs -as to say the output format")
	}
	if out != "-" {
		if err := cli.NotInput(out, path); err != nil {
			return err
		}
	}
	in, name, err := cli.Open(path, stdin)
	if err != nil {
		return err
	}
	defer in.Close()
	br := bufio.NewReaderSize(in, 1<<16)
	rp := &replay{r: br, rec: true}
	if jsonLines(br) {
		return rf.readTable(name, as, out, stdout, func() (*Table, error) { return readJSONTable(br, name) })
	}
	r, err := format.NewReader(rp, name)
	if errors.Is(err, format.ErrWrongKind) {
		var s *format.Schedules
		read := func() (*Table, error) {
			s, err = format.ReadSchedulesFrom(io.MultiReader(bytes.NewReader(rp.buf), br), name)
			if err != nil {
				return nil, err
			}
			return SchedulesTable(s), nil
		}
		if as == "" {
			if _, err := read(); err != nil {
				return err
			}
			return format.WriteSchedulesText(stdout, s)
		}
		return rf.readTable(name, as, out, stdout, read)
	}
	if err != nil {
		return err
	}
	rp.rec, rp.buf = false, nil
	defer r.Close()
	err = write(r, as, out, flt, stdout)
	if errors.Is(err, format.ErrTruncated) {
		fmt.Fprintf(stderr, "%s: warning: %v\n", tool, err)
		return nil
	}
	if err == io.EOF {
		return nil
	}
	return err
}

// replay keeps what is read through it while rec is set, so that a file
// opened as a trace can be read again as a schedules file (stdin is read
// once).
type replay struct {
	r   io.Reader
	buf []byte
	rec bool
}

func (p *replay) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if p.rec {
		p.buf = append(p.buf, b[:n]...)
	}
	return n, err
}

// jsonLines says whether r holds JSON Lines (plans or results): its first
// character but for white space is {.
func jsonLines(r *bufio.Reader) bool {
	for i := 1; ; i++ {
		head, err := r.Peek(i)
		if len(head) < i {
			return false
		}
		switch c := head[i-1]; {
		case c == '{':
			return true
		case c != ' ' && c != '\t' && c != '\n' && c != '\r':
			return false
		}
		if err != nil {
			return false
		}
	}
}

// readJSONTable reads plans or results, told apart by the first line's
// fields: a result names its "plan", a plan has an "id".
func readJSONTable(br *bufio.Reader, name string) (*Table, error) {
	data, err := io.ReadAll(br)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	line, _, _ := bytes.Cut(bytes.TrimSpace(data), []byte("\n"))
	var head struct {
		Plan *string `json:"plan"`
	}
	if json.Unmarshal(line, &head) == nil && head.Plan != nil {
		rs, err := format.ReadResults(bytes.NewReader(data), name)
		if err != nil {
			return nil, err
		}
		return ResultsTable(rs), nil
	}
	ps, err := format.ReadPlans(bytes.NewReader(data), name)
	if err != nil {
		return nil, err
	}
	return PlansTable(ps), nil
}

// readTable exports the table read makes, to out or stdout; rows are not
// filtered, and there is no text form but the file itself.
func (rf *Flags) readTable(name string, as Format, out string, stdout io.Writer, read func() (*Table, error)) error {
	if rf.Filter != (filter.Options{}) {
		return fmt.Errorf("%s: -e, -node and -conn select the rows of a trace; this file is not one", name)
	}
	t, err := read()
	if err != nil {
		return err
	}
	if as == "" {
		return fmt.Errorf("%s: holds %s, text already; -as parquet, csv or jsonl exports them", name, t.Kind)
	}
	source := filepath.Base(name)
	if out == "" || out == "-" {
		return WriteTable(stdout, as, t, source)
	}
	return atomicfile.WriteFrom(out, func(w io.Writer) error { return WriteTable(w, as, t, source) })
}

// write prints or exports r's rows; its error is the reader's end (io.EOF
// or the cut) or what went wrong.
func write(r *format.Reader, as Format, out string, flt *filter.Filter, stdout io.Writer) error {
	switch {
	case as == "":
		return printTrace(r, flt, stdout)
	case out == "" || out == "-":
		return Write(stdout, as, r, flt.Keep)
	}
	err := atomicfile.WriteFrom(out, func(w io.Writer) error {
		if err := Write(w, as, r, flt.Keep); !errors.Is(err, format.ErrTruncated) {
			return err
		}
		return nil // what was read is written; the warning comes from Read
	})
	if err == nil {
		err = r.Next(&format.Event{}) // the reader's sticky end: io.EOF or the cut
	}
	return err
}

func printTrace(r *format.Reader, flt *filter.Filter, stdout io.Writer) error {
	if err := format.WriteTextHeader(stdout, r.Meta()); err != nil {
		return err
	}
	var e format.Event
	var line []byte
	for {
		if err := r.Next(&e); err != nil {
			return err
		}
		if !flt.Keep(&e) {
			continue
		}
		line = append(format.AppendText(line[:0], &e), '\n')
		if _, err := stdout.Write(line); err != nil {
			return err
		}
	}
}
