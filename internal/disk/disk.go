//go:build linux && amd64

// Package disk follows each node's files while a run goes, so that a power
// loss can be made real: it feeds a durable.Model per node from the file
// calls the tracer shows a Hook, saves what a call is about to destroy
// (the bytes a write overwrites or a truncation cuts off, a file an unlink
// or a replacing rename takes the last name of) into a journal folder
// beside the run's folder, and, once the node's processes are gone,
// rewrites its files to what the model says a power loss leaves.
//
// Its methods are not safe for concurrent use: the injector calls them
// under its lock.
package disk

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/durable"
	"github.com/boxofpain/pain/internal/sysent"
	"github.com/boxofpain/pain/internal/tracer"
)

// Disk follows the files of every node of a run.
type Disk struct {
	mode    durable.Mode
	root    tracer.FileRoot // where stable names live on disk
	journal string          // pre-images and kept files; "" until needed
	ids     int64
	nodes   map[string]*machine
}

// machine is one node's disk.
type machine struct {
	model *durable.Model
	// open holds each OS thread's file call under way, by tid: not by
	// stable thread name, which all threads of a Go process share
	// (-threads auto), so that two threads' calls at once do not mix.
	open   map[int32]*entered
	refuse string // what the model cannot follow, if anything
}

// entered is a file call seen at its entry, applied at its exit.
type entered struct {
	op      durable.Op
	src     string // where to read its pre-image: the descriptor or the path
	existed bool   // an open: its path named a file at entry
	trunc   bool   // an open with O_TRUNC
	sync    durable.Kind
	dirty   bool // a write that never returned may have landed
}

// New returns a Disk whose models follow mode.
func New(mode durable.Mode) *Disk {
	return &Disk{mode: mode, nodes: map[string]*machine{}}
}

// FileRoots tells the Disk where the followed files are: the first root
// is the run's folder.
func (d *Disk) FileRoots(roots []tracer.FileRoot) {
	if len(roots) > 0 {
		d.root = roots[0]
	}
}

// Close removes the journal.
func (d *Disk) Close() {
	if d.journal != "" {
		os.RemoveAll(d.journal)
	}
}

// machineOf is the disk of the node a row belongs to: a node's spawned
// nodes ("client/worker.1") share its disk.
func (d *Disk) machineOf(node string) *machine {
	name := format.TopNode(node)
	mc := d.nodes[name]
	if mc == nil {
		mc = &machine{open: map[int32]*entered{}}
		d.nodes[name] = mc
	}
	if mc.model == nil {
		mc.model = durable.New(d.mode)
		if err := d.learn(mc.model); err != nil {
			mc.refuse = err.Error()
		}
	}
	return mc
}

// learn tells a new model of the files there are now, durable as they are.
func (d *Disk) learn(m *durable.Model) error {
	if d.root.Dir == "" {
		return fmt.Errorf("no file root")
	}
	return filepath.Walk(d.root.Dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return nil // gone meanwhile
		}
		if p == filepath.Join(d.root.Dir, journalName) {
			return filepath.SkipDir
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return nil
		}
		name := d.root.Name
		if rel, _ := filepath.Rel(d.root.Dir, p); rel != "." {
			name += "/" + filepath.ToSlash(rel)
		}
		m.Exists(name, durable.File(st.Ino), fi.Size(), fi.IsDir())
		return nil
	})
}

// abs is the path on disk of a stable name, or "" for a name outside
// the run's folder.
func (d *Disk) abs(name string) string {
	if name == d.root.Name {
		return d.root.Dir
	}
	if rel, ok := strings.CutPrefix(name, d.root.Name+"/"); ok && d.root.Name != "" {
		return filepath.Join(d.root.Dir, rel)
	}
	return ""
}

// Refused says why a power loss of node cannot be modelled ("" if it can).
func (d *Disk) Refused(node string) string {
	return d.machineOf(node).refuse
}

func (mc *machine) cannot(why string) {
	if mc.refuse == "" {
		mc.refuse = why
	}
}

// stat returns a file's inode and size, following a /proc fd link or not.
func stat(p string, follow bool) (ino durable.File, size int64, dir, ok bool) {
	var st syscall.Stat_t
	var err error
	if follow {
		err = syscall.Stat(p, &st)
	} else {
		err = syscall.Lstat(p, &st)
	}
	if err != nil {
		return 0, 0, false, false
	}
	return durable.File(st.Ino), st.Size, st.Mode&syscall.S_IFMT == syscall.S_IFDIR, true
}

func fdPath(e *format.Event, fd int64) string {
	return "/proc/" + strconv.Itoa(int(e.PID)) + "/fd/" + strconv.FormatInt(fd, 10)
}

// fdSync says how a descriptor's writes are made durable as they return
// (O_SYNC: Fsync, O_DSYNC: Fdatasync, else 0), from its flags in fdinfo.
func fdSync(e *format.Event) durable.Kind {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(int(e.PID)) + "/fdinfo/" + strconv.Itoa(int(e.FD)))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "flags:"); ok {
			f, _ := strconv.ParseUint(strings.TrimSpace(v), 8, 64)
			switch {
			case f&oSync == oSync:
				return durable.Fsync
			case f&oDsync != 0:
				return durable.Fdatasync
			}
		}
	}
	return 0
}

// The open flags the kernel shows in fdinfo (octal there): O_SYNC is
// __O_SYNC|O_DSYNC.
const (
	oDsync = 0o10000
	oSync  = 0o4010000
)

func isWrite(c *tracer.Call) bool { return c.Dir == sysent.Out }
