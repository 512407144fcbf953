package durable

import "fmt"

// Need is what must be saved before an op runs, so that an Image can be
// applied after it: Len bytes of File from Off (the op's pre-image: bytes
// it overwrites or cuts off), or with Keep, the whole file, which the op
// takes the last name of (a hard link to it is enough).
type Need struct {
	File     File
	Off, Len int64
	Keep     bool
}

// Need says what to save of the files before op runs; the zero Need is
// nothing. The saved bytes are found again through the op's ID.
func (m *Model) Need(op Op) Need {
	size := op.Size
	if f := m.files[op.File]; f != nil {
		size = f.size
	}
	switch op.Kind {
	case Write:
		if n := min(op.Off+op.Len, size) - op.Off; n > 0 {
			return Need{File: op.File, Off: op.Off, Len: n}
		}
	case Truncate:
		if op.Off < size {
			return Need{File: op.File, Off: op.Off, Len: size - op.Off}
		}
	case Rename:
		if g, ok := m.names[op.To]; ok && g != m.names[op.Path] && m.lastName(g) {
			return Need{File: g, Keep: true}
		}
	case Unlink:
		if f, ok := m.names[op.Path]; ok && m.lastName(f) {
			return Need{File: f, Keep: true}
		}
	}
	return Need{}
}

// lastName says whether file f has one name left.
func (m *Model) lastName(f File) bool {
	n := 0
	for _, g := range m.names {
		if g == f {
			n++
		}
	}
	return n == 1
}

// Target is a file's current contents, being rewritten to its image: an
// *os.File will do.
type Target interface {
	WriteAt(b []byte, off int64) (int, error)
	Truncate(size int64) error
}

// Replay rewrites t, which holds fi.File's current contents, to what the
// power loss leaves. saved returns the bytes saved for an op, as Need said.
func (fi *FileImage) Replay(t Target, saved func(op int64) ([]byte, error)) error {
	if fi.Dir {
		return nil
	}
	var zeros []byte
	for _, u := range fi.Undo {
		var b []byte
		if u.Zero {
			if int64(len(zeros)) < u.Len {
				zeros = make([]byte, u.Len)
			}
			b = zeros[:u.Len]
		} else {
			pre, err := saved(u.Op)
			if err != nil {
				return err
			}
			if u.Src < 0 || u.Src+u.Len > int64(len(pre)) {
				return fmt.Errorf("%s: op %d saved %d bytes, the loss needs [%d,%d)", fi.Path, u.Op, len(pre), u.Src, u.Src+u.Len)
			}
			b = pre[u.Src : u.Src+u.Len]
		}
		if _, err := t.WriteAt(b, u.Off); err != nil {
			return err
		}
	}
	return t.Truncate(fi.Size)
}

// Risk is what a power loss now would take from one file.
type Risk struct {
	Path   string // a name the file has now ("" if none)
	File   File
	Writes int   // writes not yet durable, whole or in part
	Bytes  int64 // their bytes not yet durable
	Name   bool  // a change of its names is not durable yet
}

// Pending lists the files a power loss now would change, sorted by Path.
func (m *Model) Pending() []Risk {
	own := owners(m.names)
	byFile := map[File]*Risk{}
	risk := func(f File) *Risk {
		r := byFile[f]
		if r == nil {
			r = &Risk{File: f}
			if ns := own[f]; len(ns) > 0 {
				r.Path = ns[0]
			}
			byFile[f] = r
		}
		return r
	}
	for id, f := range m.files {
		for _, d := range f.pending {
			if d.kind != Write || len(d.dirty) == 0 {
				continue
			}
			r := risk(id)
			r.Writes++
			for _, s := range d.dirty {
				r.Bytes += s.end - s.off
			}
		}
	}
	for _, n := range m.log {
		risk(n.file).Name = true
	}
	out := make([]Risk, 0, len(byFile))
	for _, r := range byFile {
		out = append(out, *r)
	}
	sortRisks(out)
	return out
}
