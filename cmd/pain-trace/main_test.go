package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/prereq"
	"github.com/boxofpain/pain/internal/ptrace"
	"github.com/boxofpain/pain/internal/testenv"
	"github.com/boxofpain/pain/internal/tracee"
)

// The test binary doubles as pain-trace and as two small helper programs,
// chosen by an environment variable.
const envAs = "PAIN_TRACE_TEST_AS"

func TestMain(m *testing.M) {
	ptrace.Shim()
	switch os.Getenv(envAs) {
	case "pain-trace":
		os.Unsetenv(envAs)
		main()
	case "tcpserve":
		tcpServe()
	case "tcpclient":
		tcpClient()
	default:
		os.Exit(m.Run())
	}
	os.Exit(0)
}

// tcpServe ADDR: accept connections on ADDR, echo one line per connection.
func tcpServe() {
	l, err := net.Listen("tcp", os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	for {
		c, err := l.Accept()
		if err != nil {
			os.Exit(2)
		}
		b := make([]byte, 64)
		n, _ := c.Read(b)
		c.Write(b[:n])
		c.Close()
	}
}

// tcpClient ADDR N: N connections to ADDR, one echoed message each.
func tcpClient() {
	n, _ := strconv.Atoi(os.Args[2])
	for i := 0; i < n; i++ {
		c, err := net.Dial("tcp", os.Args[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		c.Write([]byte("hello\n"))
		b := make([]byte, 64)
		if m, _ := io.ReadFull(c, b[:6]); m != 6 {
			os.Exit(1)
		}
		// Wait for the server's close, so that it comes before the
		// workload ends and the run's teardown begins, in every run.
		io.Copy(io.Discard, c)
		c.Close()
	}
}

// dieWithTest makes a pain-trace the test starts die with the test binary,
// whatever ends that (its -timeout, a SIGKILL): orphaned, a hung one ran on
// for minutes.
func dieWithTest() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }

// hangMargin is how long before the test binary's deadline painTrace stops
// a pain-trace that still runs.
const hangMargin = 20 * time.Second

// painTrace runs pain-trace in dir and returns its stdout, stderr and exit code.
func painTrace(t *testing.T, dir string, args ...string) (string, string, int) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if d, ok := t.Deadline(); ok {
		// A pain-trace that hangs is stopped before the test binary's
		// -timeout, with a dump of its goroutines (SIGQUIT) in the test's
		// error, rather than left running once the binary is gone.
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, d.Add(-hangMargin))
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGQUIT) }
	cmd.WaitDelay = 5 * time.Second
	cmd.SysProcAttr = dieWithTest()
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), envAs+"=pain-trace")
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("pain-trace %s: still running %v before the test's deadline; stopped:\n%s", strings.Join(args, " "), hangMargin, stderr.String())
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

// helper returns a shell command line running one of the test helpers.
func helper(t *testing.T, name string, args ...string) string {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("env %s=%s %s %s", envAs, name, exe, strings.Join(args, " "))
}

// TestCommandLine runs pain-trace end to end, step by step: each step is a
// command line, the exit code it must give, and patterns its stdout and
// stderr must (or, with a leading !, must not) match.
func TestCommandLine(t *testing.T) {
	tracee.NeedPtrace(t)
	dir := t.TempDir()
	addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	os.WriteFile(filepath.Join(dir, "Procfile"), []byte("# one echo server\nsrv: "+helper(t, "tcpserve", addr)+"\n"), 0o666)
	os.WriteFile(filepath.Join(dir, "Never"), []byte("lazy: sleep 30\n"), 0o666)
	if err := os.Symlink("Never", filepath.Join(dir, "NeverLink")); err != nil {
		t.Fatal(err)
	}
	client := func(n string) string { return helper(t, "tcpclient", addr, n) }
	for _, step := range []struct {
		args           []string
		code           int
		stdout, stderr []string
	}{
		// A shell pipeline under --: the pipe between echo and cat is recorded.
		{[]string{"-o", "pipe.arrows", "--", "sh", "-c", "echo hello | cat"}, 0,
			[]string{"^hello$"}, []string{"command passed"}},
		{[]string{"-r", "pipe.arrows"}, 0, []string{
			`^# pain trace v3`, `cmd sh`, ` sh main #0 start `,
			`write .*kind=pipe .*ret=6 `, `read .*kind=pipe .*off=0 ret=6 `, `!kind=file`}, nil},
		// The command's failure is the run's: exit 1.
		{[]string{"-o", "fail.arrows", "--", "sh", "-c", "exit 3"}, 1, nil, []string{`command failed \(status 3\)`}},
		// A Procfile system: wait for listen, run the workload, then the check.
		{[]string{"-o", "run.arrows", "-f", "Procfile", "-w", client("2"), "-check", client("1"), "-grace", "500ms"}, 0,
			nil, []string{"all nodes listening", "check passed"}},
		{[]string{"-r", "run.arrows"}, 0, []string{
			`cmd srv: "env `, `srv main.* listen .*local=srv:listen0`,
			`workload .* connect .*peer=srv:listen0 .*conn=workload:main[.0-9]*:s0>srv:listen0`,
			`check .* connect .*peer=srv:listen0`, `srv .* accept4? .*peer=workload:`}, nil},
		// A failing check: exit 1.
		{[]string{"-o", "bad.arrows", "-f", "Procfile", "-check", "exit 1", "-grace", "500ms"}, 1,
			nil, []string{`check failed \(status 1\)`}},
		// A node that never listens: a clear message, exit 2, a valid trace
		// that holds the node's start. 3s, not less: on a busy machine the
		// node's shim had not even exec'd after 300ms (its start row missing
		// in a .ci/run).
		{[]string{"-o", "never.arrows", "-f", "Never", "-timeout", "3s", "-grace", "100ms"}, 2,
			nil, []string{`not ready after 3s: no listen\(\) yet from lazy`}},
		{[]string{"-r", "never.arrows"}, 0, []string{`lazy main #0 start`}, nil},
		// A workload that hangs, with no check: killed at -timeout, never a pass.
		{[]string{"-o", "hang.arrows", "-f", "Never", "-ready", "true", "-w", "sleep 3600", "-timeout", "3s", "-grace", "100ms"}, 1,
			nil, []string{`workload did not finish within 3s and was killed`}},
		// A trace that cannot be written stops the run at once.
		{[]string{"-o", "/dev/full", "-f", "Never", "-ready", "true", "-w", "sleep 3600", "-timeout", "1m", "-grace", "100ms"}, 2,
			nil, []string{`cannot write the trace \(.*no space left on device\): stopping the run`, `pain-trace: cannot write the trace: .*no space left on device`, `!check`}},
		// Bad durations, and output over input, are refused before anything starts.
		{[]string{"-o", "x.arrows", "-f", "Never", "-timeout", "-5s"}, 2, nil, []string{`-timeout must be > 0, got -5s`, `!started`}},
		{[]string{"-o", "x.arrows", "-f", "Never", "-grace", "0"}, 2, nil, []string{`-grace must be > 0, got 0s`, `!started`}},
		{[]string{"-o", "Never", "-f", "Never"}, 2, nil, []string{`pain-trace: Never: is an input too; refusing to write over it`}},
		{[]string{"-o", "NeverLink", "-f", "Never"}, 2, nil, []string{`pain-trace: NeverLink: is input Never too; refusing`}},
		{[]string{"-r", "NeverLink"}, 2, nil, []string{`not an Arrow IPC stream`}},
		// Usage and tool errors exit 2.
		{nil, 2, nil, []string{"usage: pain-trace"}},
		{[]string{"-o", "x.arrows"}, 2, nil, []string{"give either -f Procfile or -- CMD ARGS"}},
		{[]string{"-r", "nosuch.arrows"}, 2, nil, []string{"pain-trace: open nosuch.arrows"}},
		{[]string{"-r", "Procfile"}, 2, nil, []string{"Procfile: not an Arrow IPC stream"}},
	} {
		stdout, stderr, code := painTrace(t, dir, step.args...)
		name := strings.Join(step.args, " ")
		if code != step.code {
			t.Errorf("pain-trace %s: exit %d, want %d\nstderr:\n%s", name, code, step.code, stderr)
		}
		match(t, name, "stdout", stdout, step.stdout)
		match(t, name, "stderr", stderr, step.stderr)
	}
}

func match(t *testing.T, name, what, text string, patterns []string) {
	t.Helper()
	for _, p := range patterns {
		neg := strings.HasPrefix(p, "!")
		re := regexp.MustCompile("(?m)" + strings.TrimPrefix(p, "!"))
		if re.MatchString(text) == neg {
			t.Errorf("pain-trace %s: %s does not match %q:\n%s", name, what, p, text)
		}
	}
}

// TestKilled SIGKILLs pain-trace in the middle of a run: every process of
// the run must be gone, and the trace must read up to its last batch.
func TestKilled(t *testing.T) {
	tracee.NeedPtrace(t)
	// Orphans of the killed run become our children, so we can tell
	// that none is left as a zombie either.
	if err := ptrace.SetChildSubreaper(); err != nil {
		prereq.Missing(t, "cannot become subreaper: %v", err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "run.arrows")
	mark := testenv.Mark()
	cmd := exec.Command(exe, "-o", out, "--", "sh", "-c",
		"sleep 60 & (trap '' TERM; sleep 60) & while :; do echo x | cat >/dev/null; sleep 0.02; done")
	cmd.SysProcAttr = dieWithTest()
	cmd.Env = append(os.Environ(), mark, envAs+"=pain-trace")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until at least one batch is on disk (a row reads back) and the
	// run's processes run: pain-trace, sh, the sleeps, the subshell.
	for deadline := time.Now().Add(time.Minute); rowsIn(out) == 0 || len(testenv.Marked(mark)) < 4; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatal("no row on disk after a minute")
		}
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	// The kernel kills the tracees (PTRACE_O_EXITKILL) as pain-trace dies;
	// they are reparented to us and we reap them as they go.
	awaitGone(t, mark)
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := format.NewReader(f, out)
	if err != nil {
		t.Fatal(err)
	}
	var e format.Event
	rows := 0
	for {
		err = r.Next(&e)
		if err != nil {
			break
		}
		rows++
	}
	if err != io.EOF && !strings.Contains(err.Error(), "cut short") {
		t.Errorf("reading the killed run's trace: %v", err)
	}
	if rows == 0 {
		t.Error("no rows in the killed run's trace")
	}
	t.Logf("%d rows read; reader says: %v", rows, err)
}

// rowsIn returns how many rows of trace path read back now.
func rowsIn(path string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	r, err := format.NewReader(f, path)
	if err != nil {
		return 0
	}
	defer r.Close()
	n := 0
	for e := (format.Event{}); r.Next(&e) == nil; n++ {
	}
	return n
}

// reap collects exited children (adopted orphans) without blocking.
func reap() {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG|0x40000000, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}

// zombies lists our zombie children.
func zombies() []string {
	var z []string
	me := strconv.Itoa(os.Getpid())
	dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, d := range dirs {
		b, err := os.ReadFile(d)
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 2 && f[0] == "Z" && f[1] == me {
			z = append(z, s)
		}
	}
	return z
}

// TestGoProcessThreads: a Go server and Go clients traced twice with
// -threads process, and twice with the default (-threads auto, which finds
// that they are Go programs), give the same stable rows (Go moves
// goroutines between OS threads, so per-OS-thread names would vary), and
// the trace says which naming it used.
func TestGoProcessThreads(t *testing.T) {
	tracee.NeedPtrace(t)
	dir := t.TempDir()
	for _, mode := range []string{"process", "auto"} {
		var runs [2][]string
		for i := range runs {
			addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
			os.WriteFile(filepath.Join(dir, "Procfile"), []byte("srv: "+helper(t, "tcpserve", addr)+"\n"), 0o666)
			out := fmt.Sprintf("run%d.arrows", i)
			args := []string{"-o", out, "-f", "Procfile", "-w", helper(t, "tcpclient", addr, "3"), "-grace", "300ms"}
			if mode != "auto" {
				args = append(args, "-threads", mode)
			}
			if _, stderr, code := painTrace(t, dir, args...); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			m, rows, err := format.ReadFile(filepath.Join(dir, out))
			if err != nil {
				t.Fatal(err)
			}
			if m.Extra["threads"] != mode {
				t.Errorf("-threads %s: the trace says %q", mode, m.Extra["threads"])
			}
			for _, e := range rows {
				if e.Syscall == format.EventTeardown {
					// What follows is the nodes being stopped, in an order
					// that varies (the server's last close or not): no part
					// of what two runs must share, as in a schedule.
					break
				}
				if e.FDKind == format.KindTCP && !strings.HasPrefix(e.Syscall, "exit") {
					runs[i] = append(runs[i], fmt.Sprintf("%s %s %d %s %s %s %s %d %d", e.Node, e.Thread, e.Seq, e.Syscall, e.Local, e.Peer, e.Conn, e.Offset, e.Ret))
				}
				// The shell's main thread forks the Go program, main.1,
				// whose threads are all named main.1.
				if strings.Count(e.Thread, ".") > 1 {
					t.Errorf("-threads %s: a row of thread %s/%s", mode, e.Node, e.Thread)
				}
			}
		}
		slices.Sort(runs[0])
		slices.Sort(runs[1])
		if len(runs[0]) == 0 || !slices.Equal(runs[0], runs[1]) {
			t.Errorf("-threads %s: two runs differ:\n%s\n----\n%s", mode, strings.Join(runs[0], "\n"), strings.Join(runs[1], "\n"))
		}
	}
}

// TestJVMProcessThreads: a JVM moves work between its threads as Go's
// runtime does, and -threads auto names its threads as one (the java
// launcher needs libjli.so); -threads os names them one by one.
func TestJVMProcessThreads(t *testing.T) {
	tracee.NeedPtrace(t)
	java := prereq.Command(t, "java")
	dir := t.TempDir()
	for _, mode := range []string{"os", "auto"} {
		if _, stderr, code := painTrace(t, dir, "-o", mode+".arrows", "-threads", mode, "--", java, "-version"); code != 0 {
			t.Fatalf("-threads %s: exit %d: %s", mode, code, stderr)
		}
		m, rows, err := format.ReadFile(filepath.Join(dir, mode+".arrows"))
		if err != nil {
			t.Fatal(err)
		}
		threads := map[string]bool{}
		for _, e := range rows {
			if e.Syscall != format.EventTeardown {
				threads[e.Thread] = true
			}
		}
		switch {
		case m.Extra["threads"] != mode:
			t.Errorf("-threads %s: the trace says %q", mode, m.Extra["threads"])
		case mode == "os" && len(threads) < 2:
			t.Errorf("-threads os: the JVM's rows name threads %v, want several", threads)
		case mode == "auto" && len(threads) != 1:
			t.Errorf("-threads auto: the JVM's rows name threads %v, want one", threads)
		}
	}
}

// awaitGone waits until no process carries mark and we have no zombie
// child, and fails t if that takes a minute: what dies with a killed
// tracer dies at once, but a busy machine may take its time to show it.
func awaitGone(t *testing.T, mark string) {
	t.Helper()
	var left []int
	var z []string
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		reap()
		left, z = testenv.Marked(mark), zombies()
		if len(left) == 0 && len(z) == 0 {
			return
		}
	}
	for _, pid := range left {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	if len(left) > 0 {
		t.Fatalf("processes of the killed run still alive after a minute: %v", left)
	}
	t.Errorf("zombies left after a minute: %v", z)
}

// waitFile waits until path exists, and fails t (killing cmd) if that
// takes a minute.
func waitFile(t *testing.T, cmd *exec.Cmd, path string) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("%s did not appear within a minute", path)
		}
	}
}

// TestKilledReady SIGKILLs pain-trace while its ready command runs: the
// ready command and what it started (here in the background) must die
// with it.
func TestKilledReady(t *testing.T) {
	tracee.NeedPtrace(t)
	if err := ptrace.SetChildSubreaper(); err != nil {
		prereq.Missing(t, "cannot become subreaper: %v", err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "Procfile"), []byte("lazy: sleep 3600\n"), 0o666)
	mark := testenv.Mark()
	cmd := exec.Command(exe, "-o", "run.arrows", "-f", "Procfile", "-ready", "sleep 3600 & touch probing; sleep 3600; true", "-timeout", "1h")
	cmd.Dir = dir
	cmd.SysProcAttr = dieWithTest()
	cmd.Env = append(os.Environ(), mark, envAs+"=pain-trace")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFile(t, cmd, filepath.Join(dir, "probing"))
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	awaitGone(t, mark)
}

// TestInterrupt sends SIGTERM to pain-trace while the workload runs: it
// says "interrupted", exits 2, and never starts the check.
func TestInterrupt(t *testing.T) {
	tracee.NeedPtrace(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "Procfile"), []byte("lazy: sleep 3600\n"), 0o666)
	cmd := exec.Command(exe, "-o", "run.arrows", "-f", "Procfile", "-ready", "true",
		"-w", "touch started; exec sleep 3600", "-check", "touch checked", "-timeout", "1h", "-grace", "1h")
	cmd.Dir = dir
	cmd.SysProcAttr = dieWithTest()
	cmd.Env = append(os.Environ(), envAs+"=pain-trace")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFile(t, cmd, filepath.Join(dir, "started"))
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	match(t, "interrupted", "stderr", stderr.String(), []string{`^pain-trace: interrupted; the trace is complete`,
		`workload stopped \(interrupted\)`, `!context canceled`, `!running check`, `!did not finish`})
	if _, err := os.Stat(filepath.Join(dir, "checked")); err == nil {
		t.Error("the check ran after the interruption")
	}
	if rowsIn(filepath.Join(dir, "run.arrows")) == 0 {
		t.Error("no rows in the interrupted run's trace")
	}
}
