package launch

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRunDirSweep: a run removes the temporary folders that killed runs
// left behind (no lock on them), never one a live run holds, and removes
// its own at the end.
func TestRunDirSweep(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	stale, live := filepath.Join(tmp, "pain-run-stale"), filepath.Join(tmp, "pain-run-live")
	for _, d := range []string{stale, live} {
		if err := os.MkdirAll(filepath.Join(d, "data"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	lock, err := lockDir(live)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	report := filepath.Join(t.TempDir(), "report")
	s := System{Argv: []string{"/bin/sh", "-c", `echo "$PAIN_RUN_DIR" > ` + report}, Timeout: 10 * time.Second, Grace: time.Second}
	if _, err := Run(t.Context(), s, Options{Out: &strings.Builder{}}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	own := strings.TrimSpace(string(b))
	if filepath.Dir(own) != tmp || !strings.HasPrefix(filepath.Base(own), "pain-run-") {
		t.Errorf("PAIN_RUN_DIR = %q, want a pain-run- folder in %s", own, tmp)
	}
	left, _ := filepath.Glob(filepath.Join(tmp, "*"))
	if len(left) != 1 || left[0] != live {
		t.Errorf("left in TMPDIR: %v, want only %s", left, live)
	}
}
