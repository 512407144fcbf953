//go:build linux && amd64

// Package netcut makes a partition silent, as a real one is: packets
// between the two sides are dropped by the kernel, so no FIN or RST is
// sent, a connect across the cut waits (its SYNs get no answer), and once
// the cut heals TCP delivers what it held by retransmission (or the kernel
// times the connection out); a datagram across it vanishes while its
// sender sees success.
//
// Each node of a run starts in a cgroup v2 of its own, under a cgroup for
// the run, and a cgroup_skb egress program on the run's cgroup
// (cut.bpf.c) drops a packet when the cgroup of the socket sending it and
// the cgroup of the socket it is addressed to (looked up by the kernel
// from the packet's addresses) form a pair of a cut. A node's descendants
// share its cgroup, so a partition separates the nodes the run starts
// (Procfile lines, workload, check), not processes within one. It works
// for a system of one network namespace on loopback, the ordinary
// Procfile: it needs no addresses of its own per node. Unix sockets and
// pipes carry no packets and are not cut.
//
// Nothing outlives a run: the program is attached through a BPF link held
// by this process only (closed when it exits, however it exits), and Close
// removes the cgroups. A process killed before Close leaves empty cgroup
// folders named after its pid; the next New removes those whose process
// is gone.
package netcut

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/rlimit"
)

// prefix names the run cgroups: prefix<pid>-<k>.
const prefix = "pain-"

var runs atomic.Int64

// Net is the partitioning of one run.
type Net struct {
	mu    sync.Mutex
	root  string
	objs  cutObjects
	link  link.Link
	nodes map[string]*group
	pairs map[cutPair]int // cut pairs, counted by the cuts that hold them
}

// group is a node's cgroup.
type group struct {
	dir string
	f   *os.File
	id  uint64
}

// New makes a cgroup for each of nodes under a new cgroup for the run and
// attaches the program. It needs cgroup v2 mounted and the rights to make
// cgroups and load BPF programs (root).
func New(nodes []string) (*Net, error) {
	parent, err := ownCgroup()
	if err != nil {
		return nil, err
	}
	sweep(parent)
	root := filepath.Join(parent, fmt.Sprintf("%s%d-%d", prefix, os.Getpid(), runs.Add(1)))
	if err := os.Mkdir(root, 0o755); err != nil {
		return nil, fmt.Errorf("netcut: %w", err)
	}
	n := &Net{root: root, nodes: map[string]*group{}, pairs: map[cutPair]int{}}
	if err := n.setup(nodes); err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

func (n *Net) setup(nodes []string) error {
	for _, name := range nodes {
		if _, ok := n.nodes[name]; ok {
			continue
		}
		dir := filepath.Join(n.root, "node-"+strings.ReplaceAll(name, "/", "_"))
		if err := os.Mkdir(dir, 0o755); err != nil {
			return fmt.Errorf("netcut: %w", err)
		}
		g := &group{dir: dir}
		n.nodes[name] = g
		f, err := os.Open(dir)
		if err != nil {
			return fmt.Errorf("netcut: %w", err)
		}
		g.f = f
		// A cgroup's id, as bpf_sk_cgroup_id gives it, is its folder's
		// inode number on 64-bit machines.
		var st syscall.Stat_t
		if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
			return fmt.Errorf("netcut: %s: %w", dir, err)
		}
		g.id = st.Ino
	}
	if err := rlimit.RemoveMemlock(); err != nil {
		return fmt.Errorf("netcut: %w", err)
	}
	if err := loadCutObjects(&n.objs, nil); err != nil {
		return fmt.Errorf("netcut: cannot load the partition program: %w", err)
	}
	l, err := link.AttachCgroup(link.CgroupOptions{Path: n.root, Attach: ebpf.AttachCGroupInetEgress, Program: n.objs.Egress})
	if err != nil {
		return fmt.Errorf("netcut: cannot attach the partition program to %s: %w", n.root, err)
	}
	n.link = l
	return nil
}

// Dir returns the cgroup folder node starts in (a process started with it
// as its cgroup, clone3's CLONE_INTO_CGROUP), nil for a node New was not
// given.
func (n *Net) Dir(node string) *os.File {
	n.mu.Lock()
	defer n.mu.Unlock()
	if g := n.nodes[node]; g != nil {
		return g.f
	}
	return nil
}

// Cut cuts every node of a from every node of b, both ways. A node named in
// a group must be one New was given.
func (n *Net) Cut(a, b []string) error {
	return n.change(a, b, 1)
}

// Heal undoes Cut(a, b); pairs that another cut holds stay cut.
func (n *Net) Heal(a, b []string) error {
	return n.change(a, b, -1)
}

func (n *Net) change(a, b []string, by int) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.link == nil {
		return errors.New("netcut: closed")
	}
	ga, err := n.groups(a)
	if err != nil {
		return err
	}
	gb, err := n.groups(b)
	if err != nil {
		return err
	}
	var one uint8 = 1
	for _, x := range ga {
		for _, y := range gb {
			if x == y {
				continue
			}
			for _, p := range []cutPair{{From: x.id, To: y.id}, {From: y.id, To: x.id}} {
				was := n.pairs[p]
				n.pairs[p] = max(was+by, 0)
				switch {
				case was == 0 && by > 0:
					err = n.objs.Cut.Put(p, one)
				case was == 1 && by < 0:
					err = n.objs.Cut.Delete(p)
				}
				if err != nil {
					return fmt.Errorf("netcut: %w", err)
				}
			}
		}
	}
	return nil
}

func (n *Net) groups(names []string) ([]*group, error) {
	var gs []*group
	for _, name := range names {
		g := n.nodes[name]
		if g == nil {
			return nil, fmt.Errorf("netcut: node %s has no cgroup of its own: a partition separates the nodes a run starts (Procfile lines, workload, check), not the processes of one", name)
		}
		gs = append(gs, g)
	}
	return gs, nil
}

// Close detaches the program and removes the cgroups, once the processes
// in them are gone (it waits up to 5s for exits under way).
func (n *Net) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	var errs []error
	if n.link != nil {
		errs = append(errs, n.link.Close())
		n.link = nil
	}
	errs = append(errs, n.objs.Close())
	deadline := time.Now().Add(5 * time.Second)
	for _, g := range n.nodes {
		if g.f != nil {
			g.f.Close()
		}
		errs = append(errs, rmdir(g.dir, deadline))
	}
	errs = append(errs, rmdir(n.root, deadline))
	return errors.Join(errs...)
}

// rmdir removes an empty cgroup, waiting until deadline while processes
// in it are still exiting (EBUSY).
func rmdir(dir string, deadline time.Time) error {
	for {
		err := syscall.Rmdir(dir)
		switch {
		case err == nil || errors.Is(err, syscall.ENOENT):
			return nil
		case !errors.Is(err, syscall.EBUSY) || time.Now().After(deadline):
			return fmt.Errorf("netcut: remove %s: %w", dir, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// sweep removes the run cgroups under parent left by processes that were
// killed before their Close: empty by then, as every process of a run dies
// with its tracer.
func sweep(parent string) {
	ents, _ := os.ReadDir(parent)
	for _, e := range ents {
		pid, _, ok := strings.Cut(strings.TrimPrefix(e.Name(), prefix), "-")
		if !e.IsDir() || !strings.HasPrefix(e.Name(), prefix) || !ok {
			continue
		}
		if p, err := strconv.Atoi(pid); err != nil || p == os.Getpid() || alive(p) {
			continue
		}
		dir := filepath.Join(parent, e.Name())
		kids, _ := os.ReadDir(dir)
		for _, k := range kids {
			if k.IsDir() {
				syscall.Rmdir(filepath.Join(dir, k.Name()))
			}
		}
		syscall.Rmdir(dir)
	}
}

func alive(pid int) bool {
	_, err := os.Stat("/proc/" + strconv.Itoa(pid))
	return err == nil
}

// ownCgroup returns the folder of this process's cgroup v2, found from
// the mounts (a cgroup2 file system, at /sys/fs/cgroup on most systems
// and /sys/fs/cgroup/unified in systemd's hybrid mode) and
// /proc/self/cgroup.
func ownCgroup() (string, error) {
	mnt, err := cgroup2Mount()
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", fmt.Errorf("netcut: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if p, ok := strings.CutPrefix(line, "0::"); ok {
			return filepath.Join(mnt, p), nil
		}
	}
	return mnt, nil
}

func cgroup2Mount() (string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", fmt.Errorf("netcut: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		fields := strings.Fields(pre)
		if ok && len(fields) >= 5 && strings.HasPrefix(post, "cgroup2 ") {
			return unescape(fields[4]), nil
		}
	}
	return "", errors.New("netcut: no cgroup v2 file system mounted (a silent partition needs one)")
}

// unescape undoes mountinfo's octal escapes (\040 for a space).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
