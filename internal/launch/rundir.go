//go:build linux && amd64

package launch

import (
	"fmt"
	"github.com/boxofpain/pain/internal/tracer"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// EnvRunDir names a run's scratch folder in the environment of every
// process the run starts (nodes, ready command, workload, check), so a
// Procfile can keep its data directories per run: `-dir $PAIN_RUN_DIR/kv1`.
const EnvRunDir = "PAIN_RUN_DIR"

// openRunDir makes the run's scratch folder: keep (created if missing, and
// kept) or, when keep is empty, a new temporary folder. The returned
// function removes a temporary folder; call it once no process of the run
// is left.
//
// A temporary folder is locked (flock) while its run lives: the kernel
// drops the lock when the tool dies, however it dies, so the next run
// removes the folders of killed runs (sweepRunDirs) and never a live one's.
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
	sweepRunDirs()
	// Locked before it takes a name that sweepRunDirs looks at.
	tmp, err := os.MkdirTemp("", ".pain-new-")
	if err != nil {
		return "", nil, fmt.Errorf("run folder: %w", err)
	}
	lock, err := lockDir(tmp)
	if err == nil {
		dir = filepath.Join(filepath.Dir(tmp), "pain-run-"+strings.TrimPrefix(filepath.Base(tmp), ".pain-new-"))
		err = os.Rename(tmp, dir)
	}
	if err != nil {
		os.RemoveAll(tmp)
		if lock != nil {
			lock.Close()
		}
		return "", nil, fmt.Errorf("run folder: %w", err)
	}
	return dir, func() { os.RemoveAll(dir); lock.Close() }, nil
}

// sweepRunDirs removes the temporary run folders that no live run holds.
// fileRootName is how rows name the run's folder; the trace's metadata
// says it (pain.x.files).
const fileRootName = "$PAIN_RUN_DIR"

// runFiles says which files of a run get rows in its trace: those under
// its folder, named "$PAIN_RUN_DIR/<path under it>", the same in every run.
func runFiles(dir string) []tracer.FileRoot {
	roots := []tracer.FileRoot{{Dir: dir, Name: fileRootName}}
	if real, err := filepath.EvalSymlinks(dir); err == nil && real != dir {
		// Paths are compared as written or as the kernel resolves them
		// (a working directory): the folder under either name.
		roots = append(roots, tracer.FileRoot{Dir: real, Name: fileRootName})
	}
	return roots
}

func sweepRunDirs() {
	old, _ := filepath.Glob(filepath.Join(os.TempDir(), "pain-run-*"))
	for _, d := range old {
		if lock, err := lockDir(d); err == nil {
			os.RemoveAll(d)
			lock.Close()
		}
	}
}

// lockDir takes an exclusive lock on folder dir without waiting.
func lockDir(dir string) (*os.File, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
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
