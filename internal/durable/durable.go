// Package durable says what a machine's files would hold after a power loss.
//
// A Model is fed the file system calls of one machine (one node, or the
// nodes that share its disk) in the order they returned, with each file
// named twice: by identity (its inode: descriptors resolve to it, and it
// survives renames) and by path (its stable name under the node's or the
// run's folder). At any moment it answers what a power loss now would keep:
// each file's contents at its last durable point, later bytes lost or, on
// request, torn; creations, renames and unlinks no sync covered, undone. It
// does no I/O: the tracer feeds it, the planner asks what is at risk
// (Pending), and the injector saves what an op destroys (Need) and rewrites
// the files to the Image.
//
// The rules are a table in the README ("What survives a power loss"). In
// short, for both modes: fsync and fdatasync of a file make its data and
// its size durable; sync and syncfs make everything durable; a write never
// made durable is lost. Ordered (the default) is what ext4 in its default
// data=ordered mode and XFS guarantee: names and sizes live in one journal,
// so a sync that has anything to write commits the journal, and every name
// change made before it (creations, renames, unlinks, truncations, on any
// file) becomes durable with it; a rename that replaces a file carries the
// renamed file's data with it (ext4's auto_da_alloc). POSIX is only what
// POSIX promises: a name change is durable once the directory holding the
// new name was synced. No mode undoes what a sync made durable.
package durable

import (
	"fmt"
	"path"
	"strings"
)

// Mode is how much a file system promises.
type Mode uint8

const (
	// Ordered is ext4 (data=ordered, auto_da_alloc) and XFS, their defaults.
	Ordered Mode = iota
	// POSIX is only what POSIX promises.
	POSIX
)

func (m Mode) String() string {
	if m == POSIX {
		return "posix"
	}
	return "ordered"
}

// ParseMode reads a Mode by its name.
func ParseMode(s string) (Mode, error) {
	switch s {
	case "ordered":
		return Ordered, nil
	case "posix":
		return POSIX, nil
	}
	return 0, fmt.Errorf("unknown durability mode %q (want ordered or posix)", s)
}

// File is a file's identity: its inode on the traced machine. 0 is none.
type File uint64

// Kind is what an Op does.
type Kind uint8

const (
	_         Kind = iota
	Create         // a new regular file File at Path (creat, open with O_CREAT that made it)
	Mkdir          // a new directory File at Path
	Write          // Len bytes written at Off of File (an append lands at the end: Off is where)
	Truncate       // File's size set to Off (truncate, ftruncate, open with O_TRUNC)
	Extend         // File grown to Off+Len, reading zeros (fallocate without KEEP_SIZE)
	Fsync          // File's data, size and metadata (fsync; a write through O_SYNC)
	Fdatasync      // File's data and size (fdatasync; a write through O_DSYNC)
	SyncRange      // File's data in [Off, Off+Len), or to its end when Len is 0 (sync_file_range)
	Sync           // every file (sync, syncfs)
	Rename         // the file at Path renamed To, replacing what To named
	Link           // a new name To for the file at Path
	Unlink         // the name Path removed (unlink, unlinkat, rmdir)
)

var kindNames = [...]string{Create: "create", Mkdir: "mkdir", Write: "write", Truncate: "truncate",
	Extend: "extend", Fsync: "fsync", Fdatasync: "fdatasync", SyncRange: "sync_range", Sync: "sync",
	Rename: "rename", Link: "link", Unlink: "unlink"}

func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// Op is one file system call, as it returned.
type Op struct {
	// ID is the caller's name for the op (a row's index in the trace):
	// Undo names the op whose saved bytes restore a range.
	ID   int64
	Kind Kind
	// File is the file acted on: the new one for Create and Mkdir, the
	// descriptor's for data ops and syncs. Name ops find it by Path.
	File File
	// Path is a stable name, relative to the folder the model watches
	// (slash-separated, "." for the folder itself). Data ops and syncs may
	// give it so that a file first seen there can be known by name.
	Path string
	// To is the new name of Rename and Link.
	To string
	// Off and Len: see Kind. Size is the file's size when the call entered,
	// for a file the model has not seen yet (a file from before the run).
	Off, Len, Size int64
}

// Model is the durable state of a machine's files. The zero Model is not
// ready; use New.
type Model struct {
	mode    Mode
	clock   int64 // counts Apply calls
	durable int64 // Ordered: every journaled change at or before it is durable
	names   map[string]File
	files   map[File]*file
	log     []*nameOp // name changes not yet durable, oldest first
}

// file is one inode.
type file struct {
	dir      bool
	size     int64 // now
	base     int64 // after a power loss now, unless torn: the size at the newest durable size change
	lastMeta int64 // clock of its newest journaled change (Ordered: is a commit owed?)
	pending  []*dataOp
}

// dataOp is a change to a file's bytes or size not yet durable.
type dataOp struct {
	id       int64
	kind     Kind // Write, Truncate or Extend
	clock    int64
	off, end int64 // the bytes changed; Truncate: [new size, old size)
	entry    int64 // the file's size when the op entered
	after    int64 // and when it returned
	carried  bool  // a write that goes out with a rename replacing a file
	dirty    []span
}

// span is a byte range [off, end).
type span struct{ off, end int64 }

// nameOp is a change to the names not yet durable.
type nameOp struct {
	id       int64
	kind     Kind
	clock    int64
	file     File
	old      File // Rename: what To named before, 0 if nothing
	from, to string
	dirs     [2]dirRef // the directories whose entries changed, the new name's first
}

// dirRef names a directory by inode when known, else by path.
type dirRef struct {
	file File
	path string
}

// New returns an empty model: no file is known until an op or Exists names it.
func New(mode Mode) *Model {
	return &Model{mode: mode, names: map[string]File{}, files: map[File]*file{}}
}

// Mode returns the model's mode.
func (m *Model) Mode() Mode { return m.mode }

// Exists tells the model of a file that was there before it watched
// (durable as it is).
func (m *Model) Exists(p string, f File, size int64, dir bool) {
	p = path.Clean(p)
	m.names[p] = f
	if m.files[f] == nil {
		m.files[f] = &file{dir: dir, size: size, base: size}
	}
}

// Apply records op. It fails, changing nothing, on an op that names what
// the model cannot know: a name op on a path that names nothing, a create
// over an existing name, a data op without a file.
func (m *Model) Apply(op Op) error {
	if err := m.known(&op); err != nil {
		return fmt.Errorf("%s %s: %w", op.Kind, op.Path, err)
	}
	m.clock++
	switch op.Kind {
	case Create, Mkdir:
		m.create(op)
	case Write, Truncate, Extend:
		m.change(op)
	case Fsync, Fdatasync:
		m.fsync(op)
	case SyncRange:
		m.syncRange(op)
	case Sync:
		m.sync()
	case Rename, Link, Unlink:
		m.rename(op)
	default:
		return fmt.Errorf("unknown op kind %d", op.Kind)
	}
	return nil
}

// known checks op against the names and learns a file it first sees.
func (m *Model) known(op *Op) error {
	if op.Path != "" {
		op.Path = path.Clean(op.Path)
	}
	if op.To != "" {
		op.To = path.Clean(op.To)
	}
	switch op.Kind {
	case Create, Mkdir:
		if op.File == 0 {
			return fmt.Errorf("no file")
		}
		if _, ok := m.names[op.Path]; ok {
			return fmt.Errorf("the name exists")
		}
	case Rename, Link, Unlink:
		f, ok := m.names[op.Path]
		if !ok {
			return fmt.Errorf("no such name")
		}
		op.File = f
	case Sync:
	default:
		if op.File == 0 {
			return fmt.Errorf("no file")
		}
		if m.files[op.File] == nil {
			// A file from before the run: what it held then is durable.
			m.files[op.File] = &file{size: op.Size, base: op.Size}
			if op.Path != "" {
				if _, ok := m.names[op.Path]; !ok {
					m.names[op.Path] = op.File
				}
			}
		}
	}
	return nil
}

func (m *Model) create(op Op) {
	m.files[op.File] = &file{dir: op.Kind == Mkdir, lastMeta: m.clock}
	m.names[op.Path] = op.File
	m.logName(&nameOp{id: op.ID, kind: op.Kind, file: op.File, from: op.Path,
		dirs: [2]dirRef{m.dirOf(op.Path)}})
}

// change records a write, a truncation or an extension of a file.
func (m *Model) change(op Op) {
	f := m.files[op.File]
	d := &dataOp{id: op.ID, kind: op.Kind, clock: m.clock, entry: f.size}
	switch op.Kind {
	case Write:
		d.off, d.end = op.Off, op.Off+op.Len
		f.size = max(f.size, d.end)
	case Truncate:
		d.off, d.end = min(op.Off, f.size), f.size
		f.size = op.Off
		f.lastMeta = m.clock
	case Extend:
		if op.Off+op.Len <= f.size {
			return // fallocate inside the file changes nothing one can read
		}
		d.off, d.end = f.size, op.Off+op.Len
		f.size = d.end
		f.lastMeta = m.clock
	}
	if d.end > d.off {
		d.dirty = []span{{d.off, d.end}}
	}
	d.after = f.size
	f.pending = append(f.pending, d)
}

// journaled says whether a data op is made durable by a journal commit: a
// size set explicitly, or a write carried by a replacing rename.
func (d *dataOp) journaled() bool { return d.kind != Write || d.carried }

func (m *Model) fsync(op Op) {
	f := m.files[op.File]
	d := dirRef{op.File, op.Path}
	owed := len(f.pending) > 0 || f.lastMeta > m.durable || m.namesIn(d)
	m.flush(f)
	switch {
	case m.mode == Ordered && owed:
		m.commit()
	case m.mode == POSIX:
		m.syncDir(d)
	}
}

// namesIn says whether a name change in directory d is not yet durable.
func (m *Model) namesIn(d dirRef) bool {
	for _, n := range m.log {
		if n.in(d) {
			return true
		}
	}
	return false
}

// flush makes a file's data and size durable.
func (m *Model) flush(f *file) {
	f.pending = nil
	f.base = f.size
}

// commit makes every journaled change so far durable (Ordered).
func (m *Model) commit() {
	m.durable = m.clock
	m.log = nil
	for _, f := range m.files {
		kept := f.pending[:0]
		for _, d := range f.pending {
			if d.journaled() {
				f.base = d.after
				continue
			}
			kept = append(kept, d)
		}
		f.pending = kept
	}
}

// syncDir makes the name changes in directory d durable (POSIX).
func (m *Model) syncDir(d dirRef) {
	kept := m.log[:0]
	for _, n := range m.log {
		if !n.in(d) {
			kept = append(kept, n)
			continue
		}
		if n.kind == Rename && m.files[n.file].dir {
			// The directory stays renamed: the changes inside it that are
			// still to be undone happen under its new name.
			for _, k := range kept {
				k.rebase(n.from, n.to)
			}
		}
	}
	m.log = kept
}

// rebase moves the names of a change from under directory from to under to.
func (n *nameOp) rebase(from, to string) {
	for _, p := range []*string{&n.from, &n.to, &n.dirs[0].path, &n.dirs[1].path} {
		if *p == from {
			*p = to
		} else if rest, ok := strings.CutPrefix(*p, from+"/"); ok {
			*p = to + "/" + rest
		}
	}
}

// in says whether a name change is covered by a sync of directory d: the
// directory holding its new name (for an unlink, the one it was in).
func (n *nameOp) in(d dirRef) bool {
	r := n.dirs[0]
	return (d.file != 0 && r.file == d.file) || (d.path != "" && r.path == d.path)
}

func (m *Model) syncRange(op Op) {
	f := m.files[op.File]
	end := op.Off + op.Len
	if op.Len == 0 {
		end = f.size
	}
	// sync_file_range writes pages, never the size: bytes past the durable
	// size stay lost.
	s := span{op.Off, min(end, f.base)}
	if s.end <= s.off {
		return
	}
	for _, d := range f.pending {
		if !d.journaled() {
			d.dirty = subtract(d.dirty, s)
		}
	}
}

func (m *Model) sync() {
	for _, f := range m.files {
		m.flush(f)
	}
	m.durable = m.clock
	m.log = nil
}

// rename records Rename, Link and Unlink.
func (m *Model) rename(op Op) {
	n := &nameOp{id: op.ID, kind: op.Kind, file: op.File, from: op.Path, to: op.To}
	switch op.Kind {
	case Rename:
		n.old = m.names[op.To]
		n.dirs = [2]dirRef{m.dirOf(op.To), m.dirOf(op.Path)}
		if n.old == op.File {
			return // rename to a name of the same file does nothing
		}
		move(m.names, op.Path, op.To, m.files[op.File].dir)
		if n.old != 0 && m.mode == Ordered {
			m.carry(op.File)
		}
	case Link:
		n.old = m.names[op.To]
		n.dirs = [2]dirRef{m.dirOf(op.To)}
		m.names[op.To] = op.File
	case Unlink:
		n.dirs = [2]dirRef{m.dirOf(op.Path)}
		delete(m.names, op.Path)
	}
	m.files[op.File].lastMeta = m.clock
	m.logName(n)
}

// carry marks a file's pending writes as going out with the rename that
// replaces another file by it (ext4's auto_da_alloc): they are durable once
// that rename is, at the next commit.
func (m *Model) carry(f File) {
	for _, d := range m.files[f].pending {
		d.carried = true
	}
}

func (m *Model) logName(n *nameOp) {
	n.clock = m.clock
	for _, r := range n.dirs {
		if f := m.files[r.file]; f != nil {
			f.lastMeta = m.clock
		}
	}
	m.log = append(m.log, n)
}

// dirOf names the directory holding p.
func (m *Model) dirOf(p string) dirRef {
	d := path.Dir(p)
	return dirRef{m.names[d], d}
}

// move renames from to to in names, with everything under it when it is a
// directory.
func move(names map[string]File, from, to string, dir bool) {
	if from == to {
		return
	}
	names[to] = names[from]
	delete(names, from)
	if !dir {
		return
	}
	for p, f := range names {
		if rest, ok := strings.CutPrefix(p, from+"/"); ok {
			delete(names, p)
			names[to+"/"+rest] = f
		}
	}
}

// subtract removes s from the sorted, disjoint spans ss.
func subtract(ss []span, s span) []span {
	var out []span
	for _, x := range ss {
		if x.end <= s.off || x.off >= s.end {
			out = append(out, x)
			continue
		}
		if x.off < s.off {
			out = append(out, span{x.off, s.off})
		}
		if x.end > s.end {
			out = append(out, span{s.end, x.end})
		}
	}
	return out
}
