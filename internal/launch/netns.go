package launch

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/boxofpain/pain/internal/ptrace"
)

// EnvRunDir names a run's scratch folder in the environment of every
// process the run starts (nodes, ready command, workload, check), so a
// Procfile can keep its data directories per run: `-dir $PAIN_RUN_DIR/kv1`.
const EnvRunDir = "PAIN_RUN_DIR"

// netnsSetup is the tracer's Setup with Options.Netns: the ptrace thread,
// which forks every process of the run, moves into a new network namespace
// with only its loopback up. The namespace has no name; the thread and the
// run's processes hold it, and it goes with them, also when the tool is
// killed.
func netnsSetup(on bool) func() error {
	if !on {
		return nil
	}
	return func() error {
		if err := ptrace.NewNetns(); err != nil {
			return fmt.Errorf("-netns: %w", err)
		}
		return nil
	}
}

// openRunDir makes the run's scratch folder: keep (created if missing, and
// kept) or, when keep is empty, a new temporary folder. The returned
// function removes a temporary folder; call it once no process of the run
// is left.
func openRunDir(keep string) (dir string, remove func(), err error) {
	if keep != "" {
		if keep, err = filepath.Abs(keep); err != nil {
			return "", nil, fmt.Errorf("run folder: %w", err)
		}
		if err := os.MkdirAll(keep, 0o755); err != nil {
			return "", nil, fmt.Errorf("run folder: %w", err)
		}
		return keep, func() {}, nil
	}
	dir, err = os.MkdirTemp("", "pain-run-")
	if err != nil {
		return "", nil, fmt.Errorf("run folder: %w", err)
	}
	return dir, func() { os.RemoveAll(dir) }, nil
}

// withRunDir returns env with EnvRunDir set to dir (an inherited value
// replaced: a run inside a run has its own folder).
func withRunDir(env []string, dir string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if !strings.HasPrefix(kv, EnvRunDir+"=") {
			out = append(out, kv)
		}
	}
	return append(out, EnvRunDir+"="+dir)
}
