package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

// TestRoot: the module's top folder is two levels above this package's.
func TestRoot(t *testing.T) {
	root, err := Root()
	if err != nil {
		t.Fatal(err)
	}
	want, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if root != want {
		t.Errorf("Root() = %s, want %s", root, want)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Error(err)
	}
}

// TestFreePorts: the ports of one call are distinct, each held until all
// are found.
func TestFreePorts(t *testing.T) {
	ports := FreePorts(t, 20)
	seen := map[int]bool{}
	for _, p := range ports {
		if p <= 0 || seen[p] {
			t.Fatalf("ports %v: %d repeated or not a port", ports, p)
		}
		seen[p] = true
	}
}

// TestBuild builds a command of the module into a folder, named after its
// package's folder.
func TestBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go build")
	}
	dir := Tools(t, "./cmd/pain-plan")
	if fi, err := os.Stat(filepath.Join(dir, "pain-plan")); err != nil || fi.Mode()&0o111 == 0 {
		t.Fatalf("no executable pain-plan in %s: %v", dir, err)
	}
}

// runner runs a test's function as testing.M runs the tests.
type runner func() int

func (r runner) Run() int { return r() }

// TestMainBuildsOnce: the tests Main runs find the commands in one folder,
// which is gone after them, and their exit code is Main's; a build that
// fails runs no test; no packages, no build.
func TestMainBuildsOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go build")
	}
	var bin string
	code := run(runner(func() int {
		for _, name := range []string{"pain-plan", "pain-track"} {
			if fi, err := os.Stat(filepath.Join(bin, name)); err != nil || fi.Mode()&0o111 == 0 {
				t.Errorf("no executable %s in %s: %v", name, bin, err)
			}
		}
		return 7
	}), &bin, []string{"./cmd/pain-plan", "./cmd/pain-track"})
	if code != 7 {
		t.Errorf("exit code %d, want the tests' 7", code)
	}
	if _, err := os.Stat(bin); !os.IsNotExist(err) {
		t.Errorf("%s left after the tests: %v", bin, err)
	}

	ran := false
	if code := run(runner(func() int { ran = true; return 0 }), &bin, []string{"./cmd/no-such-command"}); code != 2 || ran {
		t.Errorf("a failed build: exit code %d (want 2), tests run: %v", code, ran)
	}
	if _, err := os.Stat(bin); !os.IsNotExist(err) {
		t.Errorf("%s left after a failed build: %v", bin, err)
	}

	code = run(runner(func() int {
		if entries, err := os.ReadDir(bin); err != nil || len(entries) != 0 {
			t.Errorf("no packages: folder %s holds %d files (%v)", bin, len(entries), err)
		}
		return 0
	}), &bin, nil)
	if code != 0 {
		t.Errorf("no packages: exit code %d", code)
	}
}
