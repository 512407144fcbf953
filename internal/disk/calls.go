//go:build linux && amd64

package disk

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/durable"
	"github.com/boxofpain/pain/internal/tracer"
)

// Enter sees a call at its entry, as it is about to run: it saves what the
// call would destroy and remembers the call until its exit.
func (d *Disk) Enter(c *tracer.Call) {
	e := c.Event
	if e.FDKind != format.KindFile {
		return
	}
	mc := d.machineOf(e.Node)
	if mc.refuse != "" {
		return // nothing more to follow: a power loss is refused
	}
	ent, err := d.enter(c)
	if err != nil {
		mc.cannot(fmt.Sprintf("%s %s: %v", e.Syscall, e.Local, err))
		return
	}
	if ent == nil {
		return
	}
	d.ids++
	ent.op.ID = d.ids
	if err := d.save(mc, ent); err != nil {
		mc.cannot(fmt.Sprintf("saving what %s %s destroys: %v", e.Syscall, e.Local, err))
		return
	}
	mc.open[e.TID] = ent
}

// enter works out the op a call will be (nil: none the model needs).
func (d *Disk) enter(c *tracer.Call) (*entered, error) {
	e := c.Event
	switch e.Syscall {
	case "open", "openat", "creat":
		return d.enterOpen(e)
	case "fsync", "fdatasync":
		k := durable.Fsync
		if e.Syscall == "fdatasync" {
			k = durable.Fdatasync
		}
		return d.onFD(e, durable.Op{Kind: k})
	case "sync_file_range":
		n, _ := strconv.ParseInt(e.Arg, 10, 64)
		return d.onFD(e, durable.Op{Kind: durable.SyncRange, Off: e.Offset, Len: n})
	case "sync", "syncfs":
		return &entered{op: durable.Op{Kind: durable.Sync}}, nil
	case "ftruncate":
		return d.onFD(e, durable.Op{Kind: durable.Truncate, Off: e.Offset})
	case "fallocate":
		return d.enterFallocate(e)
	case "truncate":
		src := d.abs(e.Local)
		ino, size, _, ok := stat(src, true)
		if !ok {
			return nil, nil // fails
		}
		return &entered{op: durable.Op{Kind: durable.Truncate, File: ino, Path: e.Local, Off: e.Offset, Size: size}, src: src}, nil
	case "mkdir", "mkdirat":
		return &entered{op: durable.Op{Kind: durable.Mkdir, Path: e.Local}}, nil
	case "unlink", "unlinkat":
		return &entered{op: durable.Op{Kind: durable.Unlink, Path: e.Local}}, nil
	case "rename", "renameat", "renameat2", "link", "linkat":
		return d.enterRename(e)
	case "mmap":
		return nil, fmt.Errorf("a shared writable mapping: its writes are no calls")
	case "io_uring_setup":
		return nil, fmt.Errorf("io_uring: its writes are no system calls")
	}
	if isWrite(c) {
		if c.FileOffset < 0 {
			return nil, fmt.Errorf("where the write lands is unknown")
		}
		ent, err := d.onFD(e, durable.Op{Kind: durable.Write, Path: c.File, Off: c.FileOffset, Len: c.Len})
		if ent != nil {
			ent.sync, ent.dirty = fdSync(e), true
		}
		return ent, err
	}
	return nil, nil // reads, close
}

// onFD completes an op on the file behind the call's descriptor.
func (d *Disk) onFD(e *format.Event, op durable.Op) (*entered, error) {
	src := fdPath(e, int64(e.FD))
	ino, size, _, ok := stat(src, true)
	if !ok {
		return nil, fmt.Errorf("cannot stat descriptor %d", e.FD)
	}
	op.File, op.Size = ino, size
	if op.Path == "" {
		op.Path = e.Local
	}
	return &entered{op: op, src: src}, nil
}

func (d *Disk) enterOpen(e *format.Event) (*entered, error) {
	if strings.Contains(e.Arg, "O_DIRECT") {
		return nil, fmt.Errorf("O_DIRECT: its writes bypass the page cache")
	}
	ent := &entered{op: durable.Op{Kind: durable.Create, Path: e.Local}, trunc: strings.Contains(e.Arg, "O_TRUNC")}
	ino, size, dir, ok := stat(d.abs(e.Local), true)
	ent.existed = ok
	if ok && ent.trunc && !dir {
		// What O_TRUNC cuts off is saved as a truncation's pre-image.
		ent.op = durable.Op{Kind: durable.Truncate, File: ino, Path: e.Local, Size: size}
		ent.src = d.abs(e.Local)
	}
	return ent, nil
}

func (d *Disk) enterFallocate(e *format.Event) (*entered, error) {
	lenS, mode, _ := strings.Cut(e.Arg, " mode=")
	n, _ := strconv.ParseInt(lenS, 10, 64)
	switch mode {
	case "":
		return d.onFD(e, durable.Op{Kind: durable.Extend, Off: e.Offset, Len: n})
	case "1": // FALLOC_FL_KEEP_SIZE: nothing one can read changes
		return nil, nil
	}
	return nil, fmt.Errorf("fallocate mode %s is not modelled", mode)
}

func (d *Disk) enterRename(e *format.Event) (*entered, error) {
	if d.abs(e.Local) == "" || d.abs(e.Peer) == "" {
		return nil, fmt.Errorf("a name outside the run's folder")
	}
	if e.Arg != "" {
		return nil, fmt.Errorf("rename %s is not modelled", e.Arg)
	}
	k := durable.Rename
	if strings.HasPrefix(e.Syscall, "link") {
		k = durable.Link
	}
	return &entered{op: durable.Op{Kind: k, Path: e.Local, To: e.Peer}}, nil
}

// Exit sees a call's return and applies it to its node's model.
func (d *Disk) Exit(c *tracer.Call) {
	e := c.Event
	if e.FDKind != format.KindFile {
		return
	}
	mc := d.machineOf(e.Node)
	ent := mc.open[e.TID]
	delete(mc.open, e.TID)
	if ent == nil || mc.refuse != "" || e.Errno != "" || e.Ret < 0 {
		return
	}
	if err := d.exit(mc, ent, e); err != nil {
		mc.cannot(fmt.Sprintf("%s %s: %v", e.Syscall, e.Local, err))
	}
}

func (d *Disk) exit(mc *machine, ent *entered, e *format.Event) error {
	op := ent.op
	switch op.Kind {
	case durable.Create, durable.Truncate:
		if e.Syscall == "open" || e.Syscall == "openat" || e.Syscall == "creat" {
			return d.exitOpen(mc, ent, e)
		}
	case durable.Mkdir:
		ino, _, _, ok := stat(d.abs(op.Path), false)
		if !ok {
			return fmt.Errorf("cannot stat the new directory")
		}
		op.File = ino
	case durable.Write:
		if e.Ret == 0 {
			return nil
		}
		op.Off, op.Len = e.Offset, e.Ret
		if err := mc.model.Apply(op); err != nil {
			return err
		}
		if ent.sync != 0 {
			return mc.model.Apply(durable.Op{ID: op.ID, Kind: ent.sync, File: op.File, Path: op.Path})
		}
		return nil
	}
	return mc.model.Apply(op)
}

func (d *Disk) exitOpen(mc *machine, ent *entered, e *format.Event) error {
	ino, _, dir, ok := stat(fdPath(e, e.Ret), true)
	if !ok {
		return fmt.Errorf("cannot stat the new descriptor")
	}
	if !ent.existed {
		kind := durable.Create
		if dir {
			kind = durable.Mkdir
		}
		return mc.model.Apply(durable.Op{ID: ent.op.ID, Kind: kind, File: ino, Path: ent.op.Path})
	}
	if ent.trunc && ent.op.Kind == durable.Truncate {
		op := ent.op
		op.File = ino
		return mc.model.Apply(op)
	}
	return nil
}

// save keeps what ent's op destroys, as the model's Need says: the bytes
// it overwrites or cuts off, or the file it takes the last name of.
func (d *Disk) save(mc *machine, ent *entered) error {
	if ent.op.Kind == durable.Create || ent.op.Kind == durable.Mkdir {
		return nil
	}
	need := mc.model.Need(ent.op)
	if need == (durable.Need{}) {
		return nil
	}
	if err := d.openJournal(); err != nil {
		return err
	}
	if need.Keep {
		victim := ent.op.Path // an unlink's
		if ent.op.Kind == durable.Rename {
			victim = ent.op.To
		}
		keep := d.keptPath(need.File)
		if _, err := os.Lstat(keep); err == nil {
			return nil
		}
		return os.Link(d.abs(victim), keep)
	}
	return d.savePre(ent.op.ID, ent.src, need)
}
