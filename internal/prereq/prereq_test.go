package prereq

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestMissing runs a test that lacks a program in a child process, once
// as on a laptop (it skips) and once in CI (it fails, saying what is
// missing).
func TestMissing(t *testing.T) {
	if os.Getenv("PREREQ_CHILD") != "" {
		Command(t, "no-such-program-anywhere")
		t.Fatal("Command returned for a program that is not there")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ci   string
		fail bool
		says string
	}{
		{"", false, "--- SKIP: TestMissing"},
		{"false", false, "--- SKIP: TestMissing"},
		{"true", true, "prerequisite missing in CI (CI=true): no-such-program-anywhere not in PATH"},
	} {
		cmd := exec.Command(exe, "-test.run=^TestMissing$", "-test.v")
		cmd.Env = append(os.Environ(), "PREREQ_CHILD=1", "CI="+tc.ci)
		out, err := cmd.CombinedOutput()
		if (err != nil) != tc.fail || !strings.Contains(string(out), tc.says) {
			t.Errorf("CI=%q: err %v, want failed %v and %q in:\n%s", tc.ci, err, tc.fail, tc.says, out)
		}
	}
}
