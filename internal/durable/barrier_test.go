package durable

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// disk is a machine's files as they are, beside a Model: it saves what Need
// asks before each op, and replays images onto copies of the contents.
type disk struct {
	t     *testing.T
	m     *Model
	rng   *rand.Rand
	next  File
	id    int64
	names map[string]File
	data  map[File][]byte
	dirs  map[File]bool
	saved map[int64][]byte
	kept  map[File][]byte
	// synced holds a file's contents at its last data sync, while no
	// change has come after it: a barrier no power loss may undo.
	synced map[File][]byte
	trail  []string
	last   Kind
}

func newDisk(t *testing.T, mode Mode, seed uint64) *disk {
	d := &disk{t: t, m: New(mode), rng: rand.New(rand.NewPCG(seed, 7)), next: 10,
		names: map[string]File{}, data: map[File][]byte{}, dirs: map[File]bool{},
		saved: map[int64][]byte{}, kept: map[File][]byte{}, synced: map[File][]byte{}}
	d.m.Exists(".", 1, 0, true)
	d.names["."], d.dirs[1] = 1, true
	d.do(Op{Kind: Mkdir, Path: "d", File: 2})
	d.dirs[2] = true
	return d
}

func (d *disk) do(op Op) {
	d.id++
	op.ID = d.id
	if op.Kind != Create && op.Kind != Mkdir && op.Kind != Sync {
		if f, ok := d.names[op.Path]; ok && op.File == 0 && op.Kind >= Write && op.Kind <= SyncRange {
			op.File = f
		}
	}
	need := d.m.Need(op)
	if need.Len > 0 {
		d.saved[op.ID] = bytes.Clone(d.data[need.File][need.Off : need.Off+need.Len])
	}
	if need.Keep {
		d.kept[need.File] = bytes.Clone(d.data[need.File])
	}
	if err := d.m.Apply(op); err != nil {
		d.t.Fatalf("%v\n%v: %v", d.trail, op, err)
	}
	d.last = op.Kind
	d.trail = append(d.trail, fmt.Sprintf("%d:%s %s %s f%d %d+%d", op.ID, op.Kind, op.Path, op.To, op.File, op.Off, op.Len))
	d.run(op)
}

// run does op to the contents.
func (d *disk) run(op Op) {
	b := d.data[op.File]
	switch op.Kind {
	case Create, Mkdir:
		d.names[op.Path] = op.File
		d.data[op.File] = nil
	case Write:
		if end := int(op.Off + op.Len); end > len(b) {
			b = append(b, make([]byte, end-len(b))...)
		}
		for i := op.Off; i < op.Off+op.Len; i++ {
			b[i] = byte(d.rng.IntN(255) + 1)
		}
		d.data[op.File] = b
		delete(d.synced, op.File)
	case Truncate:
		d.data[op.File] = resize(b, op.Off)
		delete(d.synced, op.File)
	case Extend:
		d.data[op.File] = resize(b, max(int64(len(b)), op.Off+op.Len))
		delete(d.synced, op.File)
	case Fsync, Fdatasync:
		d.synced[op.File] = bytes.Clone(b)
	case Sync:
		for f, b := range d.data {
			d.synced[f] = bytes.Clone(b)
		}
	case Rename:
		if f := d.names[op.Path]; d.names[op.To] != f { // else rename(2) does nothing
			move(d.names, op.Path, op.To, d.dirs[f])
		}
	case Link:
		d.names[op.To] = d.names[op.Path]
	case Unlink:
		delete(d.names, op.Path)
	}
}

func resize(b []byte, n int64) []byte {
	if n <= int64(len(b)) {
		return b[:n]
	}
	return append(b, make([]byte, n-int64(len(b)))...)
}

// random does one random op.
func (d *disk) random() {
	files := d.regular()
	pick := func() (string, File) {
		p := files[d.rng.IntN(len(files))]
		return p, d.names[p]
	}
	free := d.freeName()
	switch k := d.rng.IntN(12); {
	case k == 0 || len(files) == 0:
		d.next++
		d.do(Op{Kind: Create, Path: free, File: d.next})
	case k <= 3:
		p, f := pick()
		size := int64(len(d.data[f]))
		d.do(Op{Kind: Write, Path: p, File: f, Off: d.rng.Int64N(size + 50), Len: 1 + d.rng.Int64N(3000)})
	case k == 4:
		p, f := pick()
		d.do(Op{Kind: Truncate, Path: p, File: f, Off: d.rng.Int64N(int64(len(d.data[f])) + 20)})
	case k == 5:
		p, f := pick()
		d.do(Op{Kind: []Kind{Fsync, Fdatasync}[d.rng.IntN(2)], Path: p, File: f})
	case k == 6:
		dir := []string{".", "d"}[d.rng.IntN(2)]
		d.do(Op{Kind: []Kind{Fsync, Fdatasync}[d.rng.IntN(2)], Path: dir, File: d.names[dir]})
	case k == 7:
		p, f := pick()
		d.do(Op{Kind: SyncRange, Path: p, File: f, Off: d.rng.Int64N(4096), Len: d.rng.Int64N(4096)})
	case k == 8 && d.rng.IntN(4) == 0:
		d.do(Op{Kind: Sync})
	case k == 9:
		p, _ := pick()
		to := free
		if d.rng.IntN(2) == 0 {
			to, _ = pick()
		}
		d.do(Op{Kind: Rename, Path: p, To: to})
	case k == 10:
		p, _ := pick()
		d.do(Op{Kind: Link, Path: p, To: free})
	default:
		p, _ := pick()
		d.do(Op{Kind: Unlink, Path: p})
	}
}

func (d *disk) regular() []string {
	var ps []string
	for p, f := range d.names {
		if !d.dirs[f] {
			ps = append(ps, p)
		}
	}
	slices.Sort(ps)
	return ps
}

// freeName picks a name nothing has, making more names as the few run out.
func (d *disk) freeName() string {
	for i := 0; ; i++ {
		p := []string{"a", "b", "c", "e", "d/x", "d/y", "d/z"}[d.rng.IntN(7)]
		if i > 20 {
			p += fmt.Sprint(i)
		}
		if _, ok := d.names[p]; !ok {
			return p
		}
	}
}

// check applies the image of a power loss now and holds it to the
// barriers: a file synced and not changed since has its synced contents;
// after a sync, nothing changes at all.
func (d *disk) check(torn, justSynced bool) {
	img := d.m.Image(torn)
	if justSynced && (len(img.Files) > 0 || len(img.Gone) > 0) {
		d.t.Fatalf("%v\nafter sync the loss still changes:\n%s", d.trail, img)
	}
	for _, fi := range img.Files {
		if fi.Dir {
			continue
		}
		var cur []byte
		switch {
		case fi.From != "":
			cur = bytes.Clone(d.data[d.names[fi.From]])
		default:
			kept, ok := d.kept[fi.File]
			if !ok {
				d.t.Fatalf("%v\n%s: the image needs file %d, which Need never said to keep", d.trail, fi.Path, fi.File)
			}
			cur = bytes.Clone(kept)
		}
		buf := &memFile{b: cur}
		err := fi.Replay(buf, func(op int64) ([]byte, error) {
			b, ok := d.saved[op]
			if !ok {
				return nil, fmt.Errorf("nothing saved for op %d", op)
			}
			return b, nil
		})
		if err != nil {
			d.t.Fatalf("%v\n%s\nreplay: %v", d.trail, img, err)
		}
		if int64(len(buf.b)) != fi.Size {
			d.t.Fatalf("%v\n%s: replayed %d bytes, image says %d", d.trail, fi.Path, len(buf.b), fi.Size)
		}
		if want, ok := d.synced[fi.File]; ok && !bytes.Equal(buf.b, want) {
			d.t.Fatalf("%v\n%s\n%s (file %d) was synced and not changed since, yet the loss changes it", d.trail, img, fi.Path, fi.File)
		}
	}
}

type memFile struct{ b []byte }

func (f *memFile) WriteAt(p []byte, off int64) (int, error) {
	if end := off + int64(len(p)); end > int64(len(f.b)) {
		f.b = append(f.b, make([]byte, end-int64(len(f.b)))...)
	}
	return copy(f.b[off:], p), nil
}

func (f *memFile) Truncate(n int64) error {
	f.b = resize(f.b, n)
	return nil
}

// TestBarriers runs random ops and, after each, checks that no power loss
// the model allows undoes what a sync made durable, in every mode, torn or
// not, and that its images can be replayed from what Need saved.
func TestBarriers(t *testing.T) {
	for seed := range uint64(300) {
		for _, mode := range []Mode{Ordered, POSIX} {
			d := newDisk(t, mode, seed)
			for range 40 {
				d.random()
				d.check(false, d.last == Sync)
				d.check(true, d.last == Sync)
			}
		}
	}
}
