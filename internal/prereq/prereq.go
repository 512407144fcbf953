// Package prereq is how a test says it cannot run here: a missing
// prerequisite (a compiler, ptrace, a server, root) skips the test on a
// laptop but fails it in CI, where scripts/deps.sh has installed
// everything and a skip would hide that nothing was tested. CI is the
// environment variable CI set to anything but "" or "false" (.ci/run sets
// it; so do the usual CI services). It is used only by tests.
package prereq

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// InCI reports whether the tests run in CI.
func InCI() bool {
	v := os.Getenv("CI")
	return v != "" && v != "false" && v != "0"
}

// Missing skips t saying what is missing, or fails it in CI.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if InCI() {
		t.Fatalf("prerequisite missing in CI (CI=%s): %s", os.Getenv("CI"), msg)
	}
	t.Skipf("prerequisite missing: %s", msg)
}

// Command returns the path of program name, looked up in PATH; when it is
// not there, t stops through Missing.
func Command(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		Missing(t, "%s not in PATH (scripts/deps.sh installs it)", name)
	}
	return path
}

// Root stops t through Missing unless the test runs as root; why says what
// needs it.
func Root(t testing.TB, why string) {
	t.Helper()
	if os.Getuid() != 0 {
		Missing(t, "%s needs root", why)
	}
}
