//go:build linux && amd64

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/atomicfile"
	"github.com/boxofpain/pain/internal/export"
	"github.com/boxofpain/pain/internal/filter"
)

// readFlags are the flags of pain-trace -r, and -compress.
type readFlags struct {
	as, compress string
	filter       filter.Options
}

func (rf *readFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&rf.as, "as", "", "with -r: export as `parquet`, csv or jsonl (to -o, or stdout)")
	fs.StringVar(&rf.filter.Expr, "e", "", "with -r: rows to keep, strace style: trace=network,read,process,... (`expr`)")
	fs.StringVar(&rf.filter.Nodes, "node", "", "with -r: keep rows of these `nodes` (comma-separated shell patterns)")
	fs.StringVar(&rf.filter.Conns, "conn", "", "with -r: keep rows of these `connections` (comma-separated shell patterns)")
	fs.StringVar(&rf.compress, "compress", "zstd", "trace batch compression: zstd, or none for readers without zstd")
}

func (rf *readFlags) compression() (format.Compression, error) {
	return format.ParseCompression(rf.compress)
}

// read prints the trace at path (- for stdin) as text, or exports it with
// -as to out (stdout when empty); both keep the rows the filter selects.
func (rf *readFlags) read(path, out string, stdin io.Reader, stdout, stderr io.Writer) error {
	flt, err := filter.New(rf.filter)
	if err != nil {
		return err
	}
	var as export.Format
	if rf.as != "" {
		if as, err = export.ParseFormat(rf.as); err != nil {
			return err
		}
	} else if out != "" {
		return errors.New("-r with -o needs -as to say the output format")
	}
	if err := checkInputOutput(path, out); err != nil {
		return err
	}
	in, name := stdin, "stdin"
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		in, name = f, path
	}
	r, err := format.NewReader(in, name)
	if err != nil {
		return err
	}
	defer r.Close()
	if as == "" {
		err = printTrace(r, flt, stdout)
	} else if out == "" || out == "-" {
		err = export.Write(stdout, as, r, flt.Keep)
	} else {
		err = atomicfile.WriteFrom(out, func(w io.Writer) error {
			if err := export.Write(w, as, r, flt.Keep); !errors.Is(err, format.ErrTruncated) {
				return err
			}
			return nil // what was read is written; the warning comes below
		})
		if err == nil {
			err = r.Next(&format.Event{}) // the reader's sticky end: io.EOF or the cut
		}
	}
	if errors.Is(err, format.ErrTruncated) {
		fmt.Fprintf(stderr, "%s: warning: %v\n", tool, err)
		return nil
	}
	if err == io.EOF {
		return nil
	}
	return err
}

// checkInputOutput refuses to export a trace over itself.
func checkInputOutput(in, out string) error {
	if out == "" || out == "-" || in == "-" {
		return nil
	}
	a, err1 := os.Stat(in)
	b, err2 := os.Stat(out)
	if err1 == nil && err2 == nil && os.SameFile(a, b) {
		return fmt.Errorf("%s: is the input too; refusing to write over it", out)
	}
	return nil
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
