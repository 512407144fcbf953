//go:build linux && amd64

package disk

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/durable"
)

// journalName is the journal's folder in the run's folder: no node's data
// folder, never followed (the injector's own I/O is not traced), removed
// with the run.
const journalName = ".pain-journal"

func (d *Disk) openJournal() error {
	if d.journal != "" {
		return nil
	}
	if d.root.Dir == "" {
		return fmt.Errorf("no file root")
	}
	j := filepath.Join(d.root.Dir, journalName)
	if err := os.MkdirAll(j, 0o700); err != nil {
		return err
	}
	d.journal = j
	return nil
}

func (d *Disk) keptPath(f durable.File) string {
	return filepath.Join(d.journal, "keep-"+strconv.FormatUint(uint64(f), 10))
}

func (d *Disk) prePath(op int64) string {
	return filepath.Join(d.journal, "op-"+strconv.FormatInt(op, 10))
}

// savePre copies need's bytes of the file at src, op's pre-image.
func (d *Disk) savePre(op int64, src string, need durable.Need) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	b := make([]byte, need.Len)
	n, err := f.ReadAt(b, need.Off)
	if err != nil && err != io.EOF {
		return err
	}
	return os.WriteFile(d.prePath(op), b[:n], 0o600)
}

func (d *Disk) saved(op int64) ([]byte, error) { return os.ReadFile(d.prePath(op)) }

// Loss is what a power loss took from a node's files.
type Loss struct {
	Node  string
	Image durable.Image
}

// String says it in words: which files, how many writes and bytes, which
// name changes were undone.
func (l Loss) String() string {
	var parts []string
	for _, fi := range l.Image.Files {
		var what []string
		if n := fi.Lost.Writes; n > 0 {
			what = append(what, fmt.Sprintf("%s (%d bytes)", plural(n, "write"), fi.Lost.Bytes))
		}
		if fi.Lost.Torn {
			what = append(what, "the oldest torn")
		}
		if n := fi.Lost.Sizes; n > 0 {
			what = append(what, plural(n, "size change"))
		}
		what = append(what, fi.Lost.Names...)
		if len(what) > 0 {
			parts = append(parts, fi.Path+": "+strings.Join(what, ", "))
		}
	}
	for _, p := range l.Image.Gone {
		parts = append(parts, p+": gone")
	}
	s := fmt.Sprintf("power loss of %s (%s", l.Node, l.Image.Mode)
	if l.Image.Torn {
		s += ", torn"
	}
	if len(parts) == 0 {
		return s + "): nothing to roll back"
	}
	return s + ") rolled back " + strings.Join(parts, "; ")
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

// Files says what the loss took, file by file, as a result holds it.
func (l Loss) Files() []format.RolledBack {
	var out []format.RolledBack
	for _, fi := range l.Image.Files {
		lo := fi.Lost
		if lo.Writes == 0 && !lo.Torn && lo.Sizes == 0 && len(lo.Names) == 0 {
			continue
		}
		out = append(out, format.RolledBack{Node: l.Node, File: fi.Path, Writes: lo.Writes, Bytes: lo.Bytes,
			Torn: lo.Torn, Sizes: lo.Sizes, Names: slices.Clone(lo.Names)})
	}
	for _, p := range l.Image.Gone {
		out = append(out, format.RolledBack{Node: l.Node, File: p, Gone: true})
	}
	return out
}

// PowerLoss rewrites the files of node, whose processes are all gone, to
// what a power loss now leaves, and starts its model afresh from them.
func (d *Disk) PowerLoss(node string, torn bool) (Loss, error) {
	name := format.TopNode(node)
	mc := d.machineOf(name)
	if mc.refuse != "" {
		return Loss{Node: name}, fmt.Errorf("power loss of %s cannot be modelled: %s", name, mc.refuse)
	}
	// A write that entered and never returned may have landed: it is
	// undone like one that did (its pre-image was saved).
	for _, ent := range mc.open {
		if ent.dirty {
			mc.model.Apply(ent.op)
		}
	}
	img := mc.model.Image(torn)
	err := d.rewrite(img)
	mc.model, mc.open = nil, map[int32]*entered{}
	return Loss{Node: name, Image: img}, err
}

// rewrite makes the files what img says: every new content is staged from
// the current files first (a name may pass to another file), then names
// that go are removed and the staged files put in place.
func (d *Disk) rewrite(img durable.Image) error {
	if len(img.Files) == 0 && len(img.Gone) == 0 {
		return nil
	}
	if err := d.openJournal(); err != nil {
		return err
	}
	staged := map[durable.File]string{}
	for i, fi := range img.Files {
		if fi.Dir || staged[fi.File] != "" {
			continue
		}
		tmp := filepath.Join(d.journal, "image-"+strconv.Itoa(i))
		if err := d.stage(fi, tmp); err != nil {
			return fmt.Errorf("%s: %w", fi.Path, err)
		}
		staged[fi.File] = tmp
	}
	for i := len(img.Gone) - 1; i >= 0; i-- {
		if err := os.RemoveAll(d.abs(img.Gone[i])); err != nil {
			return err
		}
	}
	placed := map[durable.File]string{}
	for _, fi := range img.Files {
		if err := d.place(fi, staged, placed); err != nil {
			return fmt.Errorf("%s: %w", fi.Path, err)
		}
	}
	return nil
}

// stage copies fi's current contents to tmp and replays the loss on it.
func (d *Disk) stage(fi durable.FileImage, tmp string) error {
	src := d.keptPath(fi.File)
	if fi.From != "" {
		src = d.abs(fi.From)
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if st, err := in.Stat(); err == nil {
		out.Chmod(st.Mode().Perm())
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := fi.Replay(out, d.saved); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// place puts a staged file (or a directory) at fi's name; a second name
// of one file becomes a hard link to the first.
func (d *Disk) place(fi durable.FileImage, staged, placed map[durable.File]string) error {
	p := d.abs(fi.Path)
	if p == "" {
		return fmt.Errorf("outside the run's folder")
	}
	if fi.Dir {
		return os.MkdirAll(p, 0o755)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	if first := placed[fi.File]; first != "" {
		os.Remove(p)
		return os.Link(first, p)
	}
	placed[fi.File] = p
	return os.Rename(staged[fi.File], p)
}

// Corrupt flips the bits of one byte of the file named name that a power
// loss now would keep: the middle byte of the longest such range (bytes
// below the durable size that no write since the last sync touched). The
// node's processes are gone; its model stays as it is (a flip is no
// write the node made).
func (d *Disk) Corrupt(node, name string) (string, error) {
	mc := d.machineOf(node)
	if mc.refuse != "" {
		return "", fmt.Errorf("corrupt %s cannot tell its durable bytes: %s", name, mc.refuse)
	}
	p := d.abs(name)
	ino, size, _, ok := stat(p, false)
	if !ok || p == "" {
		return "", fmt.Errorf("corrupt %s: no such file", name)
	}
	lo, hi := int64(0), size
	for _, fi := range mc.model.Image(false).Files {
		if fi.File == ino {
			lo, hi = longestKept(fi)
			break
		}
	}
	if hi <= lo {
		return "", fmt.Errorf("corrupt %s: no byte of it is durable", name)
	}
	off := lo + (hi-lo)/2
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		return "", err
	}
	b[0] ^= 0xff
	if _, err := f.WriteAt(b, off); err != nil {
		return "", err
	}
	return fmt.Sprintf("corrupt flipped the byte at offset %d of %s (durable bytes [%d,%d)): %#02x -> %#02x", off, name, lo, hi, b[0]^0xff, b[0]), nil
}

// longestKept is the longest range of a file below its size after a loss
// that the loss leaves as it is now.
func longestKept(fi durable.FileImage) (lo, hi int64) {
	at := int64(0)
	try := func(end int64) {
		if end-at > hi-lo {
			lo, hi = at, end
		}
	}
	undo := slices.Clone(fi.Undo)
	slices.SortFunc(undo, func(a, b durable.Undo) int { return cmp.Compare(a.Off, b.Off) })
	for _, u := range undo {
		try(min(u.Off, fi.Size))
		at = max(at, u.Off+u.Len)
	}
	try(fi.Size)
	return lo, hi
}
