// Package testenv is what the tests that run this module's commands as a
// user would share: the commands built from this tree with go build, free
// loopback ports for the systems they run, and marks that find what a run
// left behind. It is used only by tests.
package testenv

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Root returns the module's top folder, where go.mod is, found upwards from
// the working directory (a test runs in its package's folder).
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the test's folder")
		}
		dir = parent
	}
}

// Build builds the packages pkgs, named from the module's top folder
// ("./cmd/pain-trace", "./cmd/..."), into dir: each command is
// dir/<its folder's name>. For a TestMain, which has no t; tests call
// Tools.
func Build(dir string, pkgs ...string) error {
	root, err := Root()
	if err != nil {
		return err
	}
	cmd := exec.Command("go", append([]string{"build", "-o", dir + string(filepath.Separator)}, pkgs...)...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", strings.Join(pkgs, " "), err, out)
	}
	return nil
}

// Main is the TestMain of a package whose tests run commands built from
// this tree: it builds pkgs (see Build), or short in a -short run (whose
// tests skip those that need the others; nil: nothing to build), once,
// into a temporary folder that *bin names while the tests run, and removes
// the folder after them. One go build of everything the package's tests
// need, rather than one a test, links each command once. A build that
// fails ends the run before any test (exit code 2).
func Main(m *testing.M, bin *string, pkgs, short []string) {
	flag.Parse() // testing.Short is a flag
	if testing.Short() {
		pkgs = short
	}
	os.Exit(run(m, bin, pkgs))
}

// run is Main but for the exit: m is a *testing.M, or a test's runner.
func run(m interface{ Run() int }, bin *string, pkgs []string) int {
	dir, err := os.MkdirTemp("", "pain-test-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer os.RemoveAll(dir)
	*bin = dir
	if len(pkgs) > 0 {
		if err := Build(dir, pkgs...); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
	}
	return m.Run()
}

// Tools builds pkgs (see Build) into a temporary folder that t removes,
// and returns the folder; a build that fails fails t.
func Tools(t testing.TB, pkgs ...string) string {
	t.Helper()
	dir := t.TempDir()
	if err := Build(dir, pkgs...); err != nil {
		t.Fatal(err)
	}
	return dir
}

// FreePorts returns n distinct TCP ports on 127.0.0.1 that were free a
// moment ago: each is held until all are found.
func FreePorts(t testing.TB, n int) []int {
	t.Helper()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	return FreePorts(t, 1)[0]
}

// Mark returns a line for a run's environment ("PAIN_TEST_MARK=<ns>")
// that no other run carries: Marked finds the processes the run left.
func Mark() string { return fmt.Sprintf("PAIN_TEST_MARK=%d", time.Now().UnixNano()) }

// Marked returns the pids of the processes whose environment holds the
// line mark ("KEY=value"): the tests tag a run's environment with a unique
// mark to find anything it left behind.
func Marked(mark string) []int {
	var pids []int
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		env, err := os.ReadFile(d + "/environ")
		if err != nil {
			continue
		}
		for _, kv := range bytes.Split(env, []byte{0}) {
			if string(kv) == mark {
				pid, _ := strconv.Atoi(filepath.Base(d))
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids
}
