//go:build linux && amd64

package tracer

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/ptrace"
)

// FileRoot is a folder whose files get rows (Config.Files), and the name
// its path is written as in them: a file's stable name is Name joined with
// its path under Dir, the same in every run wherever Dir is.
type FileRoot struct {
	Dir, Name string
}

// fileName returns the stable name of the file at absolute path abs, and
// whether it lies under a root (the root itself included).
func (t *Tracer) fileName(abs string) (string, bool) {
	for _, r := range t.cfg.Files {
		if abs == r.Dir {
			return r.Name, true
		}
		if rel, ok := strings.CutPrefix(abs, r.Dir+"/"); ok {
			return r.Name + "/" + rel, true
		}
	}
	return "", false
}

// absPath resolves path p, relative to descriptor dirfd (AT_FDCWD or idx
// -1: the working directory) of th's process. A followed directory's own
// name is used, so a path is resolved as the process sees it.
func (t *Tracer) absPath(th *thread, dirfd int32, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	base := ""
	if dirfd != ptrace.ATFdcwd {
		if ep := th.fds.get(dirfd); ep != nil && ep.kind == format.KindFile {
			base = ep.path
		} else {
			base, _ = os.Readlink("/proc/" + strconv.Itoa(th.tid) + "/fd/" + strconv.Itoa(int(dirfd)))
		}
	} else {
		base, _ = os.Readlink("/proc/" + strconv.Itoa(th.tid) + "/cwd")
	}
	return filepath.Join(base, p)
}

// pathArg resolves the path argument i of c relative to its dirfd argument
// d (-1: none).
func (t *Tracer) pathArg(th *thread, c *call, i, d int) string {
	dirfd := int32(ptrace.ATFdcwd)
	if d >= 0 {
		dirfd = int32(c.args[d])
	}
	return t.absPath(th, dirfd, t.readString(th.tid, c.args[i]))
}

// enterOpen starts the row of an open of a file under a root; other opens
// (libraries, /etc, /proc) get none and no exit stop.
func (t *Tracer) enterOpen(th *thread, c *call) verdict {
	if t.be != nil || len(t.cfg.Files) == 0 {
		return skip
	}
	abs := t.pathArg(th, c, c.ent.Path, c.ent.Dirfd)
	name, ok := t.fileName(abs)
	if !ok {
		return skip
	}
	flags := uint64(ptrace.OCreat | ptrace.OWronly | ptrace.OTrunc) // creat
	if c.ent.Flags >= 0 {
		flags = c.args[c.ent.Flags]
	}
	c.addr, c.flags = abs, flags
	c.ev.FDKind, c.ev.Local, c.ev.Arg = format.KindFile, name, openFlags(flags)
	return record
}

// exitOpen follows the new descriptor to the file.
func (t *Tracer) exitOpen(th *thread, c *call, rval int64, failed bool) {
	if failed {
		return
	}
	ep := &endpoint{kind: format.KindFile, name: c.ev.Local, path: c.addr, oflags: c.flags, resolved: true}
	t.fdSet(th.proc, th.fds, int32(rval), ep, c.flags&ptrace.OCloexec != 0)
	c.ev.FD = int32(rval)
	if c.flags&ptrace.ODirect != 0 {
		t.unfollowed(th, "O_DIRECT", ep.name)
	}
}

// openFlags names the flags of an open that say how its writes land and
// when they are durable.
func openFlags(f uint64) string {
	var b strings.Builder
	switch f & ptrace.OAccmode {
	case ptrace.OWronly:
		b.WriteString("O_WRONLY")
	case ptrace.ORdwr:
		b.WriteString("O_RDWR")
	default:
		b.WriteString("O_RDONLY")
	}
	for _, fl := range openFlagNames {
		if f&fl.bit == fl.bit {
			b.WriteString("|" + fl.name)
			f &^= fl.bit
		}
	}
	return b.String()
}

var openFlagNames = []struct {
	bit  uint64
	name string
}{
	{ptrace.OCreat, "O_CREAT"}, {ptrace.OExcl, "O_EXCL"}, {ptrace.OTrunc, "O_TRUNC"}, {ptrace.OAppend, "O_APPEND"},
	{ptrace.OSync, "O_SYNC"}, {ptrace.ODsync, "O_DSYNC"}, {ptrace.ODirect, "O_DIRECT"}, {ptrace.ODirectory, "O_DIRECTORY"},
}

// enterFileIO starts the row of a read or write of a followed file: its
// offset is the call's own (pwrite64, ...) or, known at the exit, the
// descriptor's position.
func enterFileIO(c *call) verdict {
	if c.ent.Off != 0 {
		c.ev.Offset = int64(c.args[c.ent.Off])
	}
	return record
}

// fileIOExit completes a file read or write that moved bytes: its payload
// hash and, for calls at the descriptor's position, the offset it started
// at (the position after it, less what it moved: appends included).
func (t *Tracer) fileIOExit(th *thread, c *call, rval int64) {
	t.payload(th, c, rval)
	if c.ent.Off == 0 {
		if pos, ok := fdPos(th.proc.tgid, c.ev.FD); ok {
			c.ev.Offset = pos - rval
		}
	}
}

// fdPos reads the position of a process's descriptor (/proc fdinfo).
func fdPos(pid int, fd int32) (int64, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/fdinfo/" + strconv.Itoa(int(fd)))
	if err != nil {
		return 0, false
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	v, ok := bytes.CutPrefix(line, []byte("pos:"))
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(string(bytes.TrimSpace(v)), 10, 64)
	return n, err == nil
}

// fileOffset is where a write entering on ep will land, for the Hook: the
// call's offset, the end of the file for O_APPEND, else the position.
func (t *Tracer) fileOffset(th *thread, c *call, ep *endpoint) int64 {
	switch {
	case c.ent.Off != 0:
		return int64(c.args[c.ent.Off])
	case ep.oflags&ptrace.OAppend != 0:
		if st, err := os.Stat("/proc/" + strconv.Itoa(th.proc.tgid) + "/fd/" + strconv.Itoa(int(c.ev.FD))); err == nil {
			return st.Size()
		}
	default:
		if pos, ok := fdPos(th.proc.tgid, c.ev.FD); ok {
			return pos
		}
	}
	return -1
}

// enterSync starts the row of a sync: of a followed file or directory, or
// of everything (sync, and syncfs, whatever its descriptor).
func (t *Tracer) enterSync(th *thread, c *call) verdict {
	if t.be != nil || len(t.cfg.Files) == 0 {
		return skip
	}
	c.ev.FDKind = format.KindFile
	switch c.ent.Name {
	case "sync":
		return record
	case "sync_file_range":
		c.ev.Offset = int64(c.args[1])
		c.ev.Arg = strconv.FormatUint(c.args[2], 10)
	}
	fd := int32(c.args[0])
	ep := th.fds.get(fd)
	if ep == nil || ep.kind != format.KindFile {
		if c.ent.Name == "syncfs" {
			return record
		}
		return skip
	}
	fillFD(&c.ev, fd, ep)
	return record
}

// enterResize starts the row of ftruncate (offset: the new size) or
// fallocate (offset and, in arg, the length and any mode) of a followed
// file.
func (t *Tracer) enterResize(th *thread, c *call) verdict {
	fd := int32(c.args[0])
	ep := th.fds.get(fd)
	if ep == nil || ep.kind != format.KindFile {
		return skip
	}
	fillFD(&c.ev, fd, ep)
	if c.ent.Name == "ftruncate" {
		c.ev.Offset = int64(c.args[1])
		return record
	}
	c.ev.Offset = int64(c.args[2])
	c.ev.Arg = strconv.FormatUint(c.args[3], 10)
	if mode := c.args[1]; mode != 0 {
		c.ev.Arg += " mode=" + strconv.FormatUint(mode, 10)
	}
	return record
}

// enterPathOp starts the row of unlink, mkdir or truncate of a path under
// a root (truncate: offset is the new size).
func (t *Tracer) enterPathOp(th *thread, c *call) verdict {
	if t.be != nil || len(t.cfg.Files) == 0 {
		return skip
	}
	name, ok := t.fileName(t.pathArg(th, c, c.ent.Path, c.ent.Dirfd))
	if !ok {
		return skip
	}
	c.ev.FDKind, c.ev.Local = format.KindFile, name
	switch c.ent.Name {
	case "truncate":
		c.ev.Offset = int64(c.args[1])
	case "unlinkat":
		if c.args[2]&ptrace.ATRemovedir != 0 {
			c.ev.Arg = "AT_REMOVEDIR"
		}
	}
	return record
}

// enterRename starts the row of a rename or link with a side under a root:
// local is the old name, peer the new one (a path outside every root is
// written as it is).
func (t *Tracer) enterRename(th *thread, c *call) verdict {
	if t.be != nil || len(t.cfg.Files) == 0 {
		return skip
	}
	from := t.pathArg(th, c, c.ent.Path, c.ent.Dirfd)
	to := t.pathArg(th, c, c.ent.Path2, c.ent.Dirfd2)
	n1, ok1 := t.fileName(from)
	n2, ok2 := t.fileName(to)
	if !ok1 && !ok2 {
		return skip
	}
	if !ok1 {
		n1 = from
	}
	if !ok2 {
		n2 = to
	}
	c.ev.FDKind, c.ev.Local, c.ev.Peer = format.KindFile, n1, n2
	if c.ent.Name == "renameat2" && c.args[4] != 0 {
		c.ev.Arg = "flags=" + strconv.FormatUint(c.args[4], 10)
	}
	return record
}

// enterUnfollow records what the tracer cannot follow, and says so: a
// shared writable mapping of a followed file (its writes are no calls),
// io_uring (its calls are no system calls).
func (t *Tracer) enterUnfollow(th *thread, c *call) verdict {
	if c.ent.Name == "io_uring_setup" {
		t.unseen = true // its writes to sockets too (flight.go)
	}
	if t.be != nil || len(t.cfg.Files) == 0 {
		return skip
	}
	if c.ent.Name == "io_uring_setup" {
		t.unfollowed(th, "io_uring", "")
		c.ev.FDKind, c.ev.Arg = format.KindFile, "io_uring"
		return record
	}
	fd := int32(c.args[4])
	ep := th.fds.get(fd)
	if ep == nil || ep.kind != format.KindFile || c.args[2]&ptrace.ProtWrite == 0 || c.args[3]&ptrace.MapShared == 0 {
		return skip
	}
	fillFD(&c.ev, fd, ep)
	c.ev.Arg = "MAP_SHARED|PROT_WRITE"
	t.unfollowed(th, "a shared writable mapping", ep.name)
	return record
}

// unfollowed warns, once per kind and file, of writes the trace cannot
// show; Unfollowed lists them.
func (t *Tracer) unfollowed(th *thread, what, file string) {
	key := what
	if file != "" {
		key += " of " + file
	}
	if t.unfollow[key] {
		return
	}
	t.unfollow[key] = true
	t.warn("node " + th.proc.node.name + " uses " + key + ": its writes are not in the trace, and a power loss cannot be modelled for them")
}

// Unfollowed lists the writes the tracer saw but could not follow (O_DIRECT,
// shared writable mappings, io_uring), for the trace's reader.
func (t *Tracer) Unfollowed() []string {
	var out []string
	t.do(func() {
		for k := range t.unfollow {
			out = append(out, k)
		}
	})
	return out
}
