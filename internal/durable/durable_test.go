package durable

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// newScript builds a model from ops written one a line, their IDs being
// their line numbers (from 1):
//
//	exists PATH FILE SIZE | exists PATH FILE dir   (a file from before)
//	create PATH FILE | mkdir PATH FILE
//	write FILE OFF LEN | truncate FILE SIZE | extend FILE OFF LEN
//	fsync FILE [PATH] | fdatasync FILE [PATH] | sync_range FILE OFF LEN | sync
//	rename FROM TO | link FROM TO | unlink PATH
func newScript(t testing.TB, mode Mode, text string) *Model {
	t.Helper()
	m := New(mode)
	for i, line := range strings.Split(strings.TrimSpace(text), "\n") {
		f := strings.Fields(line)
		if len(f) == 4 && f[0] == "exists" {
			id, _ := strconv.ParseUint(f[2], 10, 64)
			size, _ := strconv.ParseInt(f[3], 10, 64)
			m.Exists(f[1], File(id), size, f[3] == "dir")
			continue
		}
		op, err := parseOp(int64(i+1), f)
		if err == nil {
			err = m.Apply(op)
		}
		if err != nil {
			t.Fatalf("line %d %q: %v", i+1, line, err)
		}
	}
	return m
}

func parseOp(id int64, f []string) (Op, error) {
	num := func(i int) int64 {
		if i >= len(f) {
			return 0
		}
		n, _ := strconv.ParseInt(f[i], 10, 64)
		return n
	}
	op := Op{ID: id}
	switch f[0] {
	case "create", "mkdir":
		op.Kind, op.Path, op.File = Create, f[1], File(num(2))
		if f[0] == "mkdir" {
			op.Kind = Mkdir
		}
	case "write", "extend", "sync_range":
		op.Kind = map[string]Kind{"write": Write, "extend": Extend, "sync_range": SyncRange}[f[0]]
		op.File, op.Off, op.Len = File(num(1)), num(2), num(3)
	case "truncate":
		op.Kind, op.File, op.Off = Truncate, File(num(1)), num(2)
	case "fsync", "fdatasync":
		op.Kind, op.File = Fsync, File(num(1))
		if f[0] == "fdatasync" {
			op.Kind = Fdatasync
		}
		if len(f) > 2 {
			op.Path = f[2]
		}
	case "sync":
		op.Kind = Sync
	case "rename", "link":
		op.Kind, op.Path, op.To = Rename, f[1], f[2]
		if f[0] == "link" {
			op.Kind = Link
		}
	case "unlink":
		op.Kind, op.Path = Unlink, f[1]
	default:
		return op, fmt.Errorf("unknown op %q", f[0])
	}
	return op, nil
}

var imageTests = []struct {
	name    string
	ops     string
	ordered string // the image, Ordered mode
	posix   string // the image, POSIX mode, when not the same
}{
	{
		name: "created and written, never synced",
		ops: `
exists . 9 dir
create a 1
write 1 0 100`,
		ordered: `gone a`,
	},
	{
		name: "fsync makes the data and, in ordered mode, the creation durable",
		ops: `
exists . 9 dir
create a 1
write 1 0 100
fsync 1`,
		ordered: ``,
		posix:   `gone a`,
	},
	{
		name: "and the directory's sync its name, in posix mode",
		ops: `
exists . 9 dir
create a 1
write 1 0 100
fsync 1
fsync 9 .`,
		ordered: ``,
	},
	{
		name: "appends after the last fdatasync are cut off (redis appendfsync always)",
		ops: `
exists aof 1 0
write 1 0 10
fdatasync 1
write 1 10 10
fdatasync 1
write 1 20 10`,
		ordered: `aof size 20; loses 1 writes (10 bytes)`,
	},
	{
		name: "replies before the sync: every append since the last one (everysec)",
		ops: `
exists aof 1 0
write 1 0 10
write 1 10 10
write 1 20 10`,
		ordered: `aof size 0; loses 3 writes (30 bytes)`,
	},
	{
		name: "an overwrite gets its old bytes back",
		ops: `
exists f 1 100
write 1 10 20
write 1 90 20`,
		ordered: `f size 100 [90,100)=op3+0 [10,30)=op2+0; loses 2 writes (40 bytes)`,
	},
	{
		name: "sync_range makes bytes inside the durable size durable, not past it",
		ops: `
exists f 1 8192
write 1 0 10000
sync_range 1 0 4096
sync_range 1 6000 0`,
		ordered: `f size 8192 [4096,6000)=op2+4096; loses 1 writes (3712 bytes)`,
	},
	{
		name: "a truncation not yet durable gives the cut bytes back",
		ops: `
exists f 1 100
truncate 1 10`,
		ordered: `f size 100 [10,100)=op2+0; 1 size changes undone`,
	},
	{
		name: "a truncation is journaled: another file's sync commits it in ordered mode",
		ops: `
exists f 1 100
exists g 2 0
truncate 1 10
write 2 0 5
fsync 2`,
		ordered: ``,
		posix:   `f size 100 [10,100)=op3+0; 1 size changes undone`,
	},
	{
		name: "fallocate grows a file with zeros; undone, it shrinks back",
		ops: `
exists wal 1 0
extend 1 0 65536
write 1 0 100`,
		ordered: `wal size 0; loses 1 writes (100 bytes); 1 size changes undone`,
	},
	{
		name: "preallocated and durable, then written in place: the writes read as zeros again",
		ops: `
exists wal 1 0
extend 1 0 65536
fsync 1
write 1 0 100
fdatasync 1
write 1 100 50`,
		ordered: `wal size 65536 [100,150)=op6+0; loses 1 writes (50 bytes)`,
	},
	{
		name: "temp file, fsync, rename, no directory sync: the old file comes back",
		ops: `
exists . 9 dir
exists f 1 5
create tmp 2
write 2 0 10
fsync 2
rename tmp f`,
		ordered: `
f <- kept copy of file 1 size 5; undoes replacement by tmp
tmp <- f size 10; undoes rename tmp -> f`,
		posix: `f <- kept copy of file 1 size 5; undoes replacement by tmp`,
	},
	{
		name: "temp file, fsync, rename, directory fdatasync (redis's manifest)",
		ops: `
exists . 9 dir
exists f 1 5
create tmp 2
write 2 0 10
fsync 2
rename tmp f
fdatasync 9 .`,
		ordered: ``,
	},
	{
		name: "a rename over a file carries the new file's data in ordered mode (auto_da_alloc)",
		ops: `
exists . 9 dir
exists f 1 5
exists g 3 0
create tmp 2
write 2 0 10
rename tmp f
write 3 0 1
fsync 3`,
		ordered: ``,
		posix:   `f <- kept copy of file 1 size 5; undoes replacement by tmp`,
	},
	{
		name: "a directory renamed into place, its parent synced (etcd's wal.tmp)",
		ops: `
exists . 9 dir
mkdir wal.tmp 2
create wal.tmp/0.wal 3
extend 3 0 65536
write 3 0 100
fsync 3
rename wal.tmp wal
fsync 9 .`,
		ordered: ``,
		posix:   `gone wal/0.wal`,
	},
	{
		name: "a directory made and filled, nothing synced: all of it goes",
		ops: `
exists . 9 dir
mkdir d 2
create d/x 3
write 3 0 5`,
		ordered: `
gone d
gone d/x`,
	},
	{
		name: "an unlink not yet durable brings the file back",
		ops: `
exists . 9 dir
exists a 1 10
unlink a`,
		ordered: `a <- kept copy of file 1 size 10; undoes unlink of a`,
	},
	{
		name: "a link not yet durable goes",
		ops: `
exists . 9 dir
exists a 1 10
link a b`,
		ordered: `gone b`,
	},
	{
		name: "sync makes everything durable",
		ops: `
exists . 9 dir
exists f 1 100
create a 2
write 2 0 10
write 1 0 10
rename a b
truncate 1 50
sync`,
		ordered: ``,
	},
}

func TestImage(t *testing.T) {
	for _, tt := range imageTests {
		for _, mode := range []Mode{Ordered, POSIX} {
			want := tt.ordered
			if mode == POSIX && tt.posix != "" {
				want = tt.posix
			}
			t.Run(tt.name+"/"+mode.String(), func(t *testing.T) {
				m := newScript(t, mode, tt.ops)
				got := m.Image(false).String()
				want := "power loss (" + mode.String() + ")\n" + strings.TrimSpace(want)
				if strings.TrimSpace(got) != strings.TrimSpace(want) {
					t.Errorf("got\n%s\nwant\n%s", got, want)
				}
			})
		}
	}
}

func TestTorn(t *testing.T) {
	for _, tt := range []struct{ ops, want string }{
		{ // the oldest append not durable keeps half, in whole sectors, then zeros
			ops: `
exists f 1 0
write 1 0 100
fsync 1
write 1 100 3000
write 1 3100 10`,
			want: `f size 3100 [1124,3100)=0; loses 2 writes (3010 bytes); torn`,
		},
		{ // a small append keeps half its bytes
			ops: `
exists f 1 0
write 1 0 10`,
			want: `f size 10 [5,10)=0; loses 1 writes (10 bytes); torn`,
		},
		{ // an overwrite is never torn: it is lost
			ops: `
exists f 1 100
write 1 0 10`,
			want: `f size 100 [0,10)=op2+0; loses 1 writes (10 bytes)`,
		},
	} {
		m := newScript(t, Ordered, tt.ops)
		got := strings.TrimSpace(m.Image(true).String())
		want := "power loss (ordered, torn)\n" + strings.TrimSpace(tt.want)
		if got != want {
			t.Errorf("%s\ngot\n%s\nwant\n%s", tt.ops, got, want)
		}
	}
}

func TestPending(t *testing.T) {
	m := newScript(t, Ordered, `
exists . 9 dir
exists aof 1 0
create wal 2
write 1 0 10
write 1 10 10
fdatasync 2
write 2 0 7`)
	got := fmt.Sprint(m.Pending())
	want := "[{aof 1 2 20 false} {wal 2 1 7 false}]"
	if got != want {
		t.Errorf("Pending = %s, want %s", got, want)
	}
	m = newScript(t, POSIX, `
exists . 9 dir
create wal 2
write 2 0 7
fdatasync 2`)
	if got, want := fmt.Sprint(m.Pending()), "[{wal 2 0 0 true}]"; got != want {
		t.Errorf("POSIX Pending = %s, want %s", got, want)
	}
}

func TestNeed(t *testing.T) {
	m := newScript(t, Ordered, `
exists . 9 dir
exists a 1 100
exists b 2 10
link b c`)
	for _, tt := range []struct {
		op   Op
		want Need
	}{
		{Op{Kind: Write, File: 1, Off: 90, Len: 20}, Need{File: 1, Off: 90, Len: 10}},
		{Op{Kind: Write, File: 1, Off: 100, Len: 20}, Need{}},
		{Op{Kind: Truncate, File: 1, Off: 40}, Need{File: 1, Off: 40, Len: 60}},
		{Op{Kind: Write, File: 7, Off: 0, Len: 8, Size: 4}, Need{File: 7, Off: 0, Len: 4}},
		{Op{Kind: Rename, Path: "b", To: "a"}, Need{File: 1, Keep: true}},
		{Op{Kind: Unlink, Path: "a"}, Need{File: 1, Keep: true}},
		{Op{Kind: Unlink, Path: "b"}, Need{}}, // c still names it
	} {
		if got := m.Need(tt.op); got != tt.want {
			t.Errorf("Need(%+v) = %+v, want %+v", tt.op, got, tt.want)
		}
	}
}

func TestApplyRefuses(t *testing.T) {
	m := newScript(t, Ordered, `
exists a 1 0`)
	for _, op := range []Op{
		{Kind: Create, Path: "a", File: 2},
		{Kind: Create, Path: "b"},
		{Kind: Rename, Path: "nope", To: "x"},
		{Kind: Write, Off: 0, Len: 1},
	} {
		if err := m.Apply(op); err == nil {
			t.Errorf("Apply(%+v) succeeded", op)
		}
	}
}
