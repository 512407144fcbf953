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
