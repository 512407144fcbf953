package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestStatus(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
		said   string
	}{
		{nil, 0, ""},
		{ExitStatus(1), 1, ""},
		{fmt.Errorf("check: %w", ExitStatus(3)), 3, ""},
		{flag.ErrHelp, 0, ""}, // -h: the usage went to stdout
		{errors.New("run-7.arrows: format version 3 is newer than this tool (1)"), 2, "pain-track: run-7.arrows: format version 3 is newer than this tool (1)\n"},
	} {
		var stderr strings.Builder
		if got := Status("pain-track", tc.err, &stderr); got != tc.status || stderr.String() != tc.said {
			t.Errorf("Status(%v) = %d and %q, want %d and %q", tc.err, got, stderr.String(), tc.status, tc.said)
		}
	}
}

func TestNotInput(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.arrows")
	if err := os.WriteFile(in, []byte("x"), 0o666); err != nil {
		t.Fatal(err)
	}
	sym, hard := filepath.Join(dir, "sym"), filepath.Join(dir, "hard")
	if err := os.Symlink("in.arrows", sym); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(in, hard); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		out    string
		inputs []string
		refuse bool
	}{
		{in, []string{in}, true},
		{sym, []string{"-", "", in}, true},
		{hard, []string{in}, true},
		{in, []string{sym}, true},
		{filepath.Join(dir, "new.arrows"), []string{in}, false},
		{in, []string{filepath.Join(dir, "other")}, false},
		{in, []string{"-"}, false},
	} {
		err := NotInput(tc.out, tc.inputs...)
		if (err != nil) != tc.refuse {
			t.Errorf("NotInput(%s, %q) = %v, want refused %v", tc.out, tc.inputs, err, tc.refuse)
		}
	}
}

// TestInterrupts: the first SIGINT cancels the context, the second closes
// the channel.
func TestInterrupts(t *testing.T) {
	ctx, again, stop := Interrupts()
	defer stop()
	syscall.Kill(os.Getpid(), syscall.SIGINT)
	<-ctx.Done()
	select {
	case <-again:
		t.Fatal("one signal counted as two")
	default:
	}
	syscall.Kill(os.Getpid(), syscall.SIGTERM)
	<-again
}

func TestParse(t *testing.T) {
	for _, c := range []struct {
		args           []string
		status         int
		stdout, stderr string
	}{
		{[]string{"-h"}, 0, "usage: tool [-n N]\n  -n int\n    \ta number\n", ""},
		{[]string{"-help"}, 0, "usage: tool [-n N]\n  -n int\n    \ta number\n", ""},
		{[]string{"-x"}, 2, "", "flag provided but not defined: -x\nusage: tool [-n N]\n  -n int\n    \ta number\n"},
		{[]string{"-n", "3"}, -1, "", ""},
	} {
		var stdout, stderr strings.Builder
		fs := flag.NewFlagSet("tool", flag.ContinueOnError)
		fs.SetOutput(&stderr)
		fs.Int("n", 0, "a number")
		fs.Usage = func() {
			fmt.Fprintln(fs.Output(), "usage: tool [-n N]")
			fs.PrintDefaults()
		}
		err := Parse(fs, c.args, &stdout)
		status := -1
		if err != nil {
			status = Status("tool", err, &stderr)
		}
		if status != c.status || stdout.String() != c.stdout || stderr.String() != c.stderr {
			t.Errorf("%v: status %d, stdout %q, stderr %q; want %d, %q, %q", c.args, status, stdout.String(), stderr.String(),
				c.status, c.stdout, c.stderr)
		}
	}
}

func TestProgressQuietOffTerminal(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if IsTerminal(f) {
		t.Fatal("a regular file is a terminal")
	}
	p := NewProgress(f, "tool: ", false)
	p.Update(1, 2, "runs")
	p.Update(2, 2, "runs")
	p.Done()
	if st, _ := f.Stat(); st.Size() != 0 {
		t.Errorf("progress written to a file: %d bytes", st.Size())
	}
	var b strings.Builder
	if IsTerminal(&b) {
		t.Error("a strings.Builder is a terminal")
	}
}

// On a terminal the line is rewritten in place, and the tool's other
// messages (Above) go above it: cleared first, drawn again after a whole
// line. The Progress is made as NewProgress makes it for a terminal.
func TestProgressTerminal(t *testing.T) {
	var b strings.Builder
	p := &Progress{w: &b, prefix: "tool: "}
	msgs := p.Above(&b)
	fmt.Fprintf(msgs, "before\n")
	p.Update(1, 3, "runs: bug 1")
	fmt.Fprintf(msgs, "run 2 ")
	fmt.Fprintf(msgs, "ends\n")
	p.last = time.Time{} // past the rate limit
	p.Update(2, 3, "runs: bug 1, survived 1")
	p.Update(3, 3, "runs: bug 1, survived 2")
	p.Done()
	want := "before\n" +
		"\rtool: 1/3 runs: bug 1\x1b[K" +
		"\r\x1b[Krun 2 " + "ends\n" + "\rtool: 1/3 runs: bug 1\x1b[K" +
		"\rtool: 2/3 runs: bug 1, survived 1\x1b[K" +
		"\rtool: 3/3 runs: bug 1, survived 2\x1b[K" +
		"\r\x1b[K"
	if b.String() != want {
		t.Errorf("terminal shows\n%q\nwant\n%q", b.String(), want)
	}
}

// Off a terminal, NewProgressLines writes every update as a line and
// leaves the other messages alone.
func TestProgressLines(t *testing.T) {
	var b strings.Builder
	p := NewProgressLines(&b, "tool: ")
	if p.Above(&b) != io.Writer(&b) {
		t.Error("Above wraps a writer that is no terminal")
	}
	p.Update(1, 2, "runs: bug 1")
	p.Update(2, 2, "runs: bug 2")
	p.Done()
	if want := "tool: 1/2 runs: bug 1\ntool: 2/2 runs: bug 2\n"; b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

// TestShellQuote: words sh takes as they are stay bare; anything else is
// quoted so that sh reads back exactly s.
func TestShellQuote(t *testing.T) {
	for s, want := range map[string]string{
		"kvnode":                 "kvnode",
		"-listen=127.0.0.1:7101": "-listen=127.0.0.1:7101",
		"":                       "''",
		"a b":                    "'a b'",
		"it's":                   `'it'\''s'`,
		"$HOME":                  "'$HOME'",
	} {
		if got := ShellQuote(s); got != want {
			t.Errorf("ShellQuote(%q) = %s, want %s", s, got, want)
		}
	}
}
