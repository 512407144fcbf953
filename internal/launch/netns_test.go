package launch

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/boxofpain/pain/internal/prereq"
)

// needNetns skips (fails in CI) where network namespaces cannot be made.
func needNetns(t *testing.T) {
	t.Helper()
	prereq.Root(t, "-netns (CAP_SYS_ADMIN)")
}

// TestRunDirAndNetns: every process of a run sees $PAIN_RUN_DIR, a folder
// of its own that exists during the run; a temporary one is gone after it,
// one given in Options.RunDir stays. With Netns the run's processes are in
// another network namespace than the test.
func TestRunDirAndNetns(t *testing.T) {
	needNetns(t)
	mine, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	report := filepath.Join(t.TempDir(), "report")
	script := `touch "$PAIN_RUN_DIR/written" && echo "$PAIN_RUN_DIR" > ` + report +
		` && readlink /proc/self/ns/net >> ` + report
	for _, tc := range []struct {
		name   string
		keep   string
		netns  bool
		remove bool
	}{
		{"temporary", "", true, true},
		{"kept", filepath.Join(t.TempDir(), "run"), false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := System{Argv: []string{"/bin/sh", "-c", script}, Timeout: 10 * time.Second, Grace: time.Second}
			var progress strings.Builder
			res, err := Run(t.Context(), s, Options{Out: &strings.Builder{}, Progress: &progress, Netns: tc.netns, RunDir: tc.keep})
			if err != nil || res.WorkloadStatus != 0 {
				t.Fatalf("run: %v, status %d\n%s", err, res.WorkloadStatus, progress.String())
			}
			b, err := os.ReadFile(report)
			if err != nil {
				t.Fatal(err)
			}
			dir, ns, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
			if tc.keep != "" && dir != tc.keep {
				t.Errorf("PAIN_RUN_DIR = %q, want %q", dir, tc.keep)
			}
			_, err = os.Stat(filepath.Join(dir, "written"))
			if gone := os.IsNotExist(err); gone != tc.remove {
				t.Errorf("run folder %s: removed %v, want %v (stat: %v)", dir, gone, tc.remove, err)
			}
			if other := ns != mine; other != tc.netns {
				t.Errorf("network namespace %s, the test's %s: want a new one %v", ns, mine, tc.netns)
			}
		})
	}
}
