package export

import (
	"errors"
	"flag"
	"fmt"
	"io"

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
// warning: ...).
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
	r, err := format.NewReader(in, name)
	if err != nil {
		return err
	}
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
