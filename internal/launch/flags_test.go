package launch

import (
	"errors"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestFlags(t *testing.T) {
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "Procfile"), filepath.Join(dir, "Bad")
	os.WriteFile(good, []byte("a: serve 1\nb: serve 2\n"), 0o666)
	os.WriteFile(bad, []byte("a serve\n"), 0o666)
	for _, c := range []struct {
		args  []string
		usage string // a UsageError
		err   string // another error
		sys   System
		opts  Options
	}{
		{args: []string{"-f", good, "-w", "load", "-check", "chk", "-ready", "rdy", "-timeout", "5s", "-grace", "1s"},
			sys: System{Nodes: []Node{{"a", "serve 1"}, {"b", "serve 2"}}, Workload: "load", Check: "chk", Ready: "rdy",
				Timeout: 5 * time.Second, Grace: time.Second}, opts: Options{Threads: ThreadsAuto}},
		{args: []string{"-run", "r1", "-payload", "16", "-seccomp=false", "-threads", "process", "--", "cmd", "-x"},
			sys:  System{Argv: []string{"cmd", "-x"}, Timeout: DefaultTimeout, Grace: DefaultGrace},
			opts: Options{Run: "r1", Payload: 16, NoSeccomp: true, Threads: ThreadsProcess}},
		{args: []string{"-check", "chk", "--", "cmd"},
			sys: System{Argv: []string{"cmd"}, Check: "chk", Timeout: DefaultTimeout, Grace: DefaultGrace}, opts: Options{Threads: ThreadsAuto}},
		{args: nil, usage: "give either -f Procfile or -- CMD ARGS"},
		{args: []string{"-f", good, "--", "cmd"}, usage: "give either -f Procfile or -- CMD ARGS"},
		{args: []string{"-payload", "-1", "--", "cmd"}, usage: "-payload must be >= 0"},
		{args: []string{"-threads", "go", "--", "cmd"}, usage: "-threads must be auto, os or process"},
		{args: []string{"-backend", "bpf", "--", "cmd"}, usage: "-backend must be ptrace or ebpf"},
		{args: []string{"-backend", "ebpf", "-payload", "16", "--", "cmd"}, usage: "-payload needs -backend ptrace"},
		{args: []string{"-backend", "ebpf", "--", "cmd"},
			sys: System{Argv: []string{"cmd"}, Timeout: DefaultTimeout, Grace: DefaultGrace}, opts: Options{Threads: ThreadsAuto}},
		{args: []string{"-w", "load", "--", "cmd"}, usage: "-w and -ready need -f Procfile"},
		{args: []string{"-ready", "rdy", "--", "cmd"}, usage: "-w and -ready need -f Procfile"},
		{args: []string{"-f", good, "-hold", "wait", "-netns", "-rundir", "d"},
			sys: System{Nodes: []Node{{"a", "serve 1"}, {"b", "serve 2"}}, Hold: "wait",
				Timeout: DefaultTimeout, Grace: DefaultGrace},
			opts: Options{Netns: true, RunDir: "d", Threads: ThreadsAuto}},
		{args: []string{"-f", good, "-hold", "wait", "-w", "load"}, usage: "-hold needs -f Procfile, and no -w or -check (they run on the host without -hold)"},
		{args: []string{"-hold", "wait", "--", "cmd"}, usage: "-hold needs -f Procfile, and no -w or -check (they run on the host without -hold)"},
		{args: []string{"-f", filepath.Join(dir, "none")}, err: "no such file"},
		{args: []string{"-f", bad}, err: bad + `: line 1: want "name: command"`},
	} {
		name := strings.Join(c.args, " ")
		fs := flag.NewFlagSet("test", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var f Flags
		f.Register(fs, "x", "y")
		if err := fs.Parse(c.args); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		sys, err := f.System(fs.Args())
		var uerr UsageError
		switch {
		case c.usage != "":
			if !errors.As(err, &uerr) || err.Error() != c.usage {
				t.Errorf("%s: error %v, want usage error %q", name, err, c.usage)
			}
			if verr := f.Validate(fs.Args()); verr != err {
				t.Errorf("%s: Validate says %v, System %v", name, verr, err)
			}
		case c.err != "":
			if err == nil || errors.As(err, &uerr) || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: error %v, want a non-usage error with %q", name, err, c.err)
			}
		case err != nil:
			t.Errorf("%s: %v", name, err)
		default:
			if !slices.Equal(sys.Nodes, c.sys.Nodes) || !slices.Equal(sys.Argv, c.sys.Argv) ||
				sys.Workload != c.sys.Workload || sys.Check != c.sys.Check || sys.Ready != c.sys.Ready ||
				sys.Timeout != c.sys.Timeout || sys.Grace != c.sys.Grace {
				t.Errorf("%s: system %+v, want %+v", name, sys, c.sys)
			}
			if o := f.Options(fs.Args()); o.Run != c.opts.Run || o.Payload != c.opts.Payload ||
				o.NoSeccomp != c.opts.NoSeccomp || o.Threads != c.opts.Threads {
				t.Errorf("%s: options %+v, want %+v", name, o, c.opts)
			}
		}
	}
}

// TestLine: the flags that describe a system, as a command line that gives
// the same flags again (the trace's pain.x.system).
func TestLine(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-f", "Procfile", "-w", "./load -n 5", "-check", "it's ok", "-run", "r1"},
			`-f Procfile -w './load -n 5' -check 'it'\''s ok'`},
		{[]string{"-f", "P", "-timeout", "3s", "-grace", "30s", "-netns", "-threads", "os", "-payload", "8", "-seccomp=false", "-rundir", "d"},
			"-f P -timeout 3s -grace 30s -payload 8 -seccomp=false -threads os -netns -rundir d"},
		{[]string{"-check", "chk", "--", "sh", "-c", "a b"}, "-check chk -- sh -c 'a b'"},
	} {
		fs := flag.NewFlagSet("test", flag.ContinueOnError)
		var f Flags
		f.Register(fs, "x", "y")
		if err := fs.Parse(c.args); err != nil {
			t.Fatal(err)
		}
		got := f.Line(fs.Args())
		if got != c.want {
			t.Errorf("%q: line %s, want %s", c.args, got, c.want)
		}
		if o := f.Options(fs.Args()); o.Meta["system"] != got {
			t.Errorf("%q: pain.x.system %q", c.args, o.Meta["system"])
		}
		// sh reads it back into words that give the same flags.
		out, err := exec.Command("sh", "-c", "for w in "+got+`; do printf '%s\n' "$w"; done`).Output()
		if err != nil {
			t.Fatal(err)
		}
		fs2 := flag.NewFlagSet("test", flag.ContinueOnError)
		var f2 Flags
		f2.Register(fs2, "x", "y")
		if err := fs2.Parse(strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")); err != nil {
			t.Fatalf("%s: %v", got, err)
		}
		if again := f2.Line(fs2.Args()); again != got {
			t.Errorf("%s read back by sh gives %s", got, again)
		}
	}
}
