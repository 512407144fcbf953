//go:build linux && amd64

package netcut

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLifetime: New makes a cgroup per node under one for the run, Cut
// and Heal take node names only, and Close leaves no cgroup behind; a run
// cgroup left by a process that is gone is swept by the next New.
func TestLifetime(t *testing.T) {
	parent, err := ownCgroup()
	if err != nil {
		t.Skip(err)
	}
	// A run cgroup of a killed pain-inject: pid 0 is never a process's.
	stale := filepath.Join(parent, prefix+"0-1")
	if err := os.MkdirAll(filepath.Join(stale, "node-a"), 0o755); err != nil {
		t.Skipf("cannot make cgroups here: %v", err)
	}
	n, err := New([]string{"a", "b", "client/worker.1"})
	if err != nil {
		t.Skipf("no silent partitions here: %v", err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale run cgroup %s still there (%v)", stale, err)
	}
	if n.Dir("a") == nil || n.Dir("zz") != nil {
		t.Errorf("Dir(a) = %v, Dir(zz) = %v: want a folder, nil", n.Dir("a"), n.Dir("zz"))
	}
	if err := n.Cut([]string{"a"}, []string{"b", "client/worker.1"}); err != nil {
		t.Error(err)
	}
	if err := n.Cut([]string{"a"}, []string{"b"}); err != nil {
		t.Error(err)
	}
	if got := n.objs.Cut.Lookup(cutPair{From: n.nodes["b"].id, To: n.nodes["a"].id}, new(uint8)); got != nil {
		t.Errorf("b to a not cut: %v", got)
	}
	if err := n.Heal([]string{"a"}, []string{"b", "client/worker.1"}); err != nil {
		t.Error(err)
	}
	var v uint8
	if err := n.objs.Cut.Lookup(cutPair{From: n.nodes["a"].id, To: n.nodes["b"].id}, &v); err != nil {
		t.Errorf("a to b healed while the second cut holds it: %v", err)
	}
	if err := n.objs.Cut.Lookup(cutPair{From: n.nodes["a"].id, To: n.nodes["client/worker.1"].id}, &v); err == nil {
		t.Errorf("a to client/worker.1 still cut after the heal")
	}
	if err := n.Cut([]string{"a"}, []string{"c"}); err == nil || !strings.Contains(err.Error(), "node c has no cgroup") {
		t.Errorf("Cut with an unknown node: %v", err)
	}
	root := n.root
	if err := n.Close(); err != nil {
		t.Error(err)
	}
	if _, err := os.Stat(root); !os.IsNotExist(err) {
		t.Errorf("%s still there after Close (%v)", root, err)
	}
}

func TestUnescape(t *testing.T) {
	for in, want := range map[string]string{`/sys/fs/cgroup`: "/sys/fs/cgroup", `/mnt/a\040b`: "/mnt/a b", `/x\0`: `/x\0`} {
		if got := unescape(in); got != want {
			t.Errorf("unescape(%q) = %q, want %q", in, got, want)
		}
	}
}
