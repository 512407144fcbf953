//go:build linux && amd64

// Package tracee builds the small test programs the tracer tests run: C
// sources with gcc, Java sources with javac; NeedPtrace stops a test that
// cannot trace here. It is used only by tests.
package tracee

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/boxofpain/pain/internal/prereq"
	"github.com/boxofpain/pain/internal/ptrace"
)

// ErrNoCompiler is wrapped by a build error when gcc is missing: tests
// that need the programs skip then, where a failed build fails them.
var ErrNoCompiler = errors.New("compiler not found")

// Programs are test programs built into one directory.
type Programs struct {
	Dir string
	Err error // why they could not be built
}

// Main builds the sources matching patterns into a temporary directory
// (see New), runs m, removes the directory and exits with m's status. Call
// it from TestMain: the build must come before any tracer runs, since a
// tracer reaps every child of the test process and no exec.Command may run
// beside one. It enters the launcher shim first (ptrace.Shim): a TestMain
// that does work of its own calls ptrace.Shim before it.
func Main(m *testing.M, p *Programs, patterns ...string) {
	ptrace.Shim()
	dir, err := os.MkdirTemp("", "pain-tracee")
	if err != nil {
		panic(err)
	}
	*p = *New(dir, patterns...)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// New builds the sources matching the glob patterns into dir, each program
// named as its source without the extension: .c with gcc -O2 -pthread,
// .java with javac (its classes land in dir; left out when there is no
// javac, so tests of Java programs check for them).
func New(dir string, patterns ...string) *Programs {
	return &Programs{Dir: dir, Err: build(dir, patterns)}
}

func build(dir string, patterns []string) error {
	if _, err := exec.LookPath("gcc"); err != nil {
		return fmt.Errorf("%w: gcc", ErrNoCompiler)
	}
	_, javacErr := exec.LookPath("javac")
	for _, pat := range patterns {
		srcs, err := filepath.Glob(pat)
		if err == nil && len(srcs) == 0 {
			err = fmt.Errorf("no sources match %s", pat)
		}
		if err != nil {
			return err
		}
		for _, src := range srcs {
			var cmd *exec.Cmd
			switch filepath.Ext(src) {
			case ".c":
				cmd = exec.Command("gcc", "-O2", "-pthread", "-o", filepath.Join(dir, strings.TrimSuffix(filepath.Base(src), ".c")), src)
			case ".java":
				if javacErr != nil {
					continue
				}
				cmd = exec.Command("javac", "-d", dir, src)
			default:
				return fmt.Errorf("%s: cannot build this kind of source", src)
			}
			if b, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("%s %s: %v\n%s", filepath.Base(cmd.Path), src, err, b)
			}
		}
	}
	return nil
}

// Path returns the path of program name.
func (p *Programs) Path(name string) string { return filepath.Join(p.Dir, name) }

// Need skips t when there is no compiler or no ptrace (fails it in CI, see
// package prereq), and fails it when the programs did not build.
func (p *Programs) Need(t testing.TB) {
	t.Helper()
	if errors.Is(p.Err, ErrNoCompiler) {
		prereq.Missing(t, "%v", p.Err)
	}
	if p.Err != nil {
		t.Fatal(p.Err)
	}
	NeedPtrace(t)
}

// NeedPtrace skips t when this process may not trace (ptrace.Probe), and
// fails it in CI (see package prereq): for every test that runs a tracer.
func NeedPtrace(t testing.TB) {
	t.Helper()
	if err := ptrace.Probe(); err != nil {
		prereq.Missing(t, "ptrace unavailable: %v", err)
	}
}
