package main

import (
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
	"github.com/boxofpain/pain/internal/launch"
	"github.com/boxofpain/pain/internal/ptrace"
)

// The test binary doubles as pain-trace and as two small helper programs,
// chosen by an environment variable.
const envAs = "PAIN_TRACE_TEST_AS"

func TestMain(m *testing.M) {
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
		c.Close()
	}
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// painTrace runs pain-trace in dir and returns its stdout, stderr and exit code.
func painTrace(t *testing.T, dir string, args ...string) (string, string, int) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), envAs+"=pain-trace")
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
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
	if err := ptrace.Probe(); err != nil {
		t.Skipf("ptrace unavailable: %v", err)
	}
	dir := t.TempDir()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	os.WriteFile(filepath.Join(dir, "Procfile"), []byte("# one echo server\nsrv: "+helper(t, "tcpserve", addr)+"\n"), 0o666)
	os.WriteFile(filepath.Join(dir, "Never"), []byte("lazy: sleep 30\n"), 0o666)
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
			`^# pain trace v2`, `cmd sh`, ` sh main #0 start `,
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
		// A node that never listens: a clear message, exit 2, a valid trace.
		{[]string{"-o", "never.arrows", "-f", "Never", "-timeout", "300ms", "-grace", "100ms"}, 2,
			nil, []string{`not ready after 300ms: no listen\(\) yet from lazy`}},
		{[]string{"-r", "never.arrows"}, 0, []string{`lazy main #0 start`}, nil},
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
	if err := ptrace.Probe(); err != nil {
		t.Skipf("ptrace unavailable: %v", err)
	}
	// Orphans of the killed run become our children, so we can tell
	// that none is left as a zombie either.
	if err := ptrace.SetChildSubreaper(); err != nil {
		t.Skipf("cannot become subreaper: %v", err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "run.arrows")
	mark := fmt.Sprintf("PAIN_TEST_MARK=%d", time.Now().UnixNano())
	cmd := exec.Command(exe, "-o", out, "--", "sh", "-c",
		"sleep 60 & (trap '' TERM; sleep 60) & while :; do echo x | cat >/dev/null; sleep 0.02; done")
	cmd.Env = append(os.Environ(), mark, envAs+"=pain-trace")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until at least one batch is on disk (a row reads back).
	for i := 0; ; i++ {
		if _, rows, _ := format.ReadFile(out); len(rows) > 0 {
			break
		}
		if i > 100 {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatal("no trace written after 5s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(launch.Marked(mark)) < 3 {
		t.Errorf("expected the run's processes to be running, found %v", launch.Marked(mark))
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	// The kernel kills the tracees (PTRACE_O_EXITKILL) as pain-trace dies;
	// they are reparented to us and we reap them as they go.
	var left []int
	var z []string
	for i := 0; i < 100; i++ {
		reap()
		left, z = launch.Marked(mark), zombies()
		if len(left) == 0 && len(z) == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(left) > 0 {
		t.Fatalf("processes of the killed run still alive after 2s: %v", left)
	}
	if len(z) > 0 {
		t.Errorf("zombies left after 2s: %v", z)
	}
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
// -threads process give the same stable rows (Go moves goroutines between
// OS threads, so per-OS-thread names would vary).
func TestGoProcessThreads(t *testing.T) {
	if err := ptrace.Probe(); err != nil {
		t.Skipf("ptrace unavailable: %v", err)
	}
	dir := t.TempDir()
	var runs [2][]string
	for i := range runs {
		addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
		os.WriteFile(filepath.Join(dir, "Procfile"), []byte("srv: "+helper(t, "tcpserve", addr)+"\n"), 0o666)
		out := fmt.Sprintf("run%d.arrows", i)
		if _, stderr, code := painTrace(t, dir, "-o", out, "-threads", "process", "-f", "Procfile",
			"-w", helper(t, "tcpclient", addr, "3"), "-grace", "300ms"); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		_, rows, err := format.ReadFile(filepath.Join(dir, out))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range rows {
			if e.FDKind == format.KindTCP && !strings.HasPrefix(e.Syscall, "exit") {
				runs[i] = append(runs[i], fmt.Sprintf("%s %s %d %s %s %s %s %d %d", e.Node, e.Thread, e.Seq, e.Syscall, e.Local, e.Peer, e.Conn, e.Offset, e.Ret))
			}
		}
	}
	slices.Sort(runs[0])
	slices.Sort(runs[1])
	if len(runs[0]) == 0 || !slices.Equal(runs[0], runs[1]) {
		t.Errorf("two runs differ:\n%s\n----\n%s", strings.Join(runs[0], "\n"), strings.Join(runs[1], "\n"))
	}
}
