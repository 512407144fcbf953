package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"

	"github.com/boxofpain/pain/internal/atomicfile"
	"github.com/boxofpain/pain/internal/cli"
	"github.com/boxofpain/pain/internal/report"
)

const tool = "pain-report"

func main() { cli.Main(tool, run) }

func run(args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet(tool, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: %s [-o report.html] [-plans FILE]... [-results FILE]... [-title TEXT] [-top N] schedules.arrows [TRACE...]\n", tool)
		fs.PrintDefaults()
	}
	var f report.Files
	var plans, results cli.List
	fs.StringVar(&f.Out, "o", "", "write the page to `FILE` (default stdout)")
	fs.Var(&plans, "plans", "plans `FILE` of pain-plan, -o or -shrink (repeatable)")
	fs.Var(&results, "results", "results `FILE` of pain-inject (repeatable)")
	fs.StringVar(&f.Title, "title", "", "the page's title (default: Box of Pain round)")
	fs.IntVar(&f.Top, "top", 3, "how many schedules get a space-time diagram")
	if err := cli.Parse(fs, args, stdout); err != nil {
		return err
	}
	switch {
	case fs.NArg() == 0:
		return cli.Usage(fs, tool, "no schedules file")
	case f.Top < 0:
		return cli.Usage(fs, tool, "-top must not be negative")
	}
	f.Schedules, f.Traces, f.Plans, f.Results = fs.Arg(0), fs.Args()[1:], plans, results
	if f.Out != "" {
		if err := cli.NotInput(f.Out, append(append(append([]string{}, fs.Args()...), plans...), results...)...); err != nil {
			return err
		}
	}
	src, err := report.Load(f)
	if err != nil {
		return err
	}
	m, err := report.Build(src)
	if err != nil {
		return fmt.Errorf("%s: %v", f.Schedules, err)
	}
	var page bytes.Buffer
	if err := report.Render(&page, m); err != nil {
		return err
	}
	for _, s := range src.Missing {
		fmt.Fprintf(stderr, "%s: warning: %s\n", tool, s)
	}
	if f.Out == "" {
		_, err = stdout.Write(page.Bytes())
		return err
	}
	if err := atomicfile.Write(f.Out, page.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "%s: %s: %d plans tried, %d bugs\n", tool, f.Out, m.Glance.Tried, m.Glance.Bugs)
	return nil
}
