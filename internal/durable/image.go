package durable

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Image is what a power loss now leaves, as changes to the files as they
// are now.
type Image struct {
	Mode Mode
	Torn bool
	// Files are the names whose file or contents the loss changes, sorted
	// by Path.
	Files []FileImage
	// Gone are the names there now that the loss takes away, sorted; a
	// directory's entries come after it.
	Gone []string
}

// FileImage is one name after the loss. To rewrite the files, read every
// From before changing anything: a name may be given to another file.
type FileImage struct {
	Path string
	File File
	Dir  bool
	// From is a name the file has now, holding its current contents; ""
	// when it has none (its unlink, or the rename that replaced it, is
	// undone), and its contents are what Need said to keep.
	From string
	// Size is the size after the loss (regular files). Undo, applied in
	// order to the current contents, and then a cut to Size give the
	// contents after the loss.
	Size int64
	Undo []Undo
	Lost Lost
}

// Undo puts back bytes of a file: those saved for op ID Op, from offset Src
// of what was saved (see Need), or zeros.
type Undo struct {
	Off, Len int64
	Op       int64
	Src      int64
	Zero     bool
}

// Lost is what a file loses, for people.
type Lost struct {
	Writes int   // writes rolled back, whole or in part
	Bytes  int64 // their bytes rolled back
	Sizes  int   // truncations and extensions undone
	Torn   bool  // its oldest write not yet durable is torn, not lost
	Names  []string
}

// Image says what a power loss now leaves. With torn, each file's oldest
// write not yet durable, when it appended, keeps a prefix of its bytes and
// reads as zeros after it to its end (a state ALICE saw file systems give;
// ext4's data=ordered does not); every later change is lost.
func (m *Model) Image(torn bool) Image {
	after := m.namesAfter()
	img := Image{Mode: m.mode, Torn: torn}
	now := owners(m.names)
	data := map[File]*FileImage{}
	for p, f := range after {
		fi := data[f]
		if fi == nil {
			fi = m.fileImage(f, torn)
			data[f] = fi
		}
		cur, here := m.names[p]
		if here && cur == f && len(fi.Undo) == 0 && fi.Size == m.files[f].size {
			continue
		}
		x := *fi
		x.Path = p
		if here && cur == f {
			x.From = p
		} else if ns := now[f]; len(ns) > 0 {
			x.From = ns[0]
		}
		img.Files = append(img.Files, x)
	}
	for p := range m.names {
		if _, ok := after[p]; !ok {
			img.Gone = append(img.Gone, p)
		}
	}
	slices.SortFunc(img.Files, func(a, b FileImage) int { return strings.Compare(a.Path, b.Path) })
	slices.Sort(img.Gone)
	return img
}

// namesAfter undoes, newest first, the name changes not yet durable.
func (m *Model) namesAfter() map[string]File {
	names := make(map[string]File, len(m.names))
	for p, f := range m.names {
		names[p] = f
	}
	for i := len(m.log) - 1; i >= 0; i-- {
		n := m.log[i]
		dir := m.files[n.file].dir
		switch n.kind {
		case Create, Mkdir:
			if names[n.from] == n.file {
				drop(names, n.from, dir)
			}
		case Link:
			if names[n.to] == n.file {
				delete(names, n.to)
			}
		case Unlink:
			names[n.from] = n.file
		case Rename:
			if names[n.to] == n.file {
				move(names, n.to, n.from, dir)
			}
			if n.old != 0 {
				names[n.to] = n.old
			}
		}
	}
	return names
}

// drop removes p from names, with everything under it when it is a
// directory.
func drop(names map[string]File, p string, dir bool) {
	delete(names, p)
	if !dir {
		return
	}
	for q := range names {
		if strings.HasPrefix(q, p+"/") {
			delete(names, q)
		}
	}
}

// owners lists each file's names, sorted.
func owners(names map[string]File) map[File][]string {
	own := map[File][]string{}
	for p, f := range names {
		own[f] = append(own[f], p)
	}
	for _, ns := range own {
		slices.Sort(ns)
	}
	return own
}

// fileImage works out a file's size and contents after the loss.
func (m *Model) fileImage(id File, torn bool) *FileImage {
	f := m.files[id]
	fi := &FileImage{File: id, Dir: f.dir, Size: f.base, Lost: Lost{Names: m.namesLost(id)}}
	if f.dir {
		return fi
	}
	var tear *dataOp
	keep := int64(0)
	if d := first(f.pending); torn && d != nil && d.kind == Write && d.end > d.entry && len(d.dirty) > 0 {
		tear, keep = d, tornKeep(d.end-d.off)
		fi.Size = max(fi.Size, d.end)
		fi.Lost.Torn = true
	}
	for i := len(f.pending) - 1; i >= 0; i-- {
		d := f.pending[i]
		n := int64(0)
		for _, s := range d.dirty {
			n += s.end - s.off
			if d == tear {
				s.off = max(s.off, d.off+keep)
			}
			fi.undo(d, span{s.off, min(s.end, fi.Size)})
		}
		switch {
		case d.kind == Write && n > 0:
			fi.Lost.Writes++
			fi.Lost.Bytes += n
		case d.kind != Write:
			fi.Lost.Sizes++
		}
	}
	return fi
}

// undo puts back span s of the bytes d changed: what was there when d
// entered, zeros past the size it had then.
func (fi *FileImage) undo(d *dataOp, s span) {
	if below := min(s.end, d.entry); below > s.off {
		fi.Undo = append(fi.Undo, Undo{Off: s.off, Len: below - s.off, Op: d.id, Src: s.off - d.off})
	}
	if from := max(s.off, d.entry); s.end > from {
		fi.Undo = append(fi.Undo, Undo{Off: from, Len: s.end - from, Zero: true})
	}
}

func first(ds []*dataOp) *dataOp {
	if len(ds) == 0 {
		return nil
	}
	return ds[0]
}

// tornKeep is how many bytes of an n-byte append a tear keeps: half, in
// whole 512-byte sectors when it spans two or more.
func tornKeep(n int64) int64 {
	if n >= 1024 {
		return n / 2 / 512 * 512
	}
	return n / 2
}

// namesLost says, in words, which name changes of file id the loss undoes,
// newest first.
func (m *Model) namesLost(id File) []string {
	var out []string
	for i := len(m.log) - 1; i >= 0; i-- {
		n := m.log[i]
		switch {
		case n.file == id && (n.kind == Create || n.kind == Mkdir):
			out = append(out, "creation of "+n.from)
		case n.file == id && n.kind == Rename:
			out = append(out, "rename "+n.from+" -> "+n.to)
		case n.file == id && n.kind == Link:
			out = append(out, "link "+n.from+" -> "+n.to)
		case n.file == id && n.kind == Unlink:
			out = append(out, "unlink of "+n.from)
		case n.old == id && n.kind == Rename:
			out = append(out, "replacement by "+n.from)
		}
	}
	return out
}

// String is the image as text, a line a name: for tests and people.
func (img Image) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "power loss (%s", img.Mode)
	if img.Torn {
		b.WriteString(", torn")
	}
	b.WriteString(")\n")
	for _, p := range img.Gone {
		fmt.Fprintf(&b, "gone %s\n", p)
	}
	for _, fi := range img.Files {
		b.WriteString(fi.String())
		b.WriteByte('\n')
	}
	return b.String()
}

func (fi FileImage) String() string {
	var b strings.Builder
	b.WriteString(fi.Path)
	if fi.From != fi.Path {
		from := fi.From
		if from == "" {
			from = fmt.Sprintf("kept copy of file %d", fi.File)
		}
		fmt.Fprintf(&b, " <- %s", from)
	}
	if fi.Dir {
		b.WriteString(" dir")
	} else {
		fmt.Fprintf(&b, " size %d", fi.Size)
	}
	for _, u := range fi.Undo {
		if u.Zero {
			fmt.Fprintf(&b, " [%d,%d)=0", u.Off, u.Off+u.Len)
		} else {
			fmt.Fprintf(&b, " [%d,%d)=op%d+%d", u.Off, u.Off+u.Len, u.Op, u.Src)
		}
	}
	l := fi.Lost
	if l.Writes > 0 {
		fmt.Fprintf(&b, "; loses %d writes (%d bytes)", l.Writes, l.Bytes)
	}
	if l.Sizes > 0 {
		fmt.Fprintf(&b, "; %d size changes undone", l.Sizes)
	}
	if l.Torn {
		b.WriteString("; torn")
	}
	for _, n := range l.Names {
		fmt.Fprintf(&b, "; undoes %s", n)
	}
	return b.String()
}

func sortRisks(rs []Risk) {
	slices.SortFunc(rs, func(a, b Risk) int {
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		return cmp.Compare(a.File, b.File)
	})
}
