package inject

import (
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/tracer"
)

// diskRun runs `tn disk DIR` alone under a tracer following DIR's files,
// with plan p, until it ends and, if want is not empty, until the
// injector's notes hold a line containing it (a power loss rewrites the
// files once the node is gone, off the ptrace thread). It returns the
// rows, what tn printed, and the injector.
func diskRun(t *testing.T, p *format.Plan, want string, args ...string) (dir string, rows []format.Event, out string, in *Injector) {
	t.Helper()
	progs.Need(t)
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	in, err = New(p, Options{Log: func(m string) { t.Log(m) }})
	if err != nil {
		t.Fatal(err)
	}
	var tr *tracer.Tracer
	outPath := filepath.Join(t.TempDir(), "out")
	f, err := os.Create(outPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	argv := append([]string{progs.Path("tn"), "disk", dir}, args...)
	restarted := make(chan *tracer.Proc, 1)
	restart := func(node string) error {
		p, err := tr.Start(tracer.Spec{Node: node, Argv: argv, Stdout: f, Thread: "main@1"})
		if err == nil {
			restarted <- p
		}
		return err
	}
	tr, err = tracer.New(tracer.Config{Hook: in, Files: []tracer.FileRoot{{Dir: dir, Name: "$D"}}, Restart: restart,
		Warn: func(m string) { t.Logf("tracer: %s", m) }})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan struct{})
	go func() {
		for b := range tr.Events() {
			rows = append(rows, b...)
		}
		close(got)
	}()
	proc, err := tr.Start(tracer.Spec{Node: "w", Argv: argv, Stdout: f})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-proc.Done():
	case <-time.After(time.Minute):
		t.Error("tn disk did not end")
	}
	for end := time.Now().Add(time.Minute); want != "" && !slices.ContainsFunc(in.Notes(), func(n string) bool {
		return strings.Contains(n, want)
	}); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(end) {
			t.Errorf("no note saying %q: %q", want, in.Notes())
			break
		}
	}
	if len(p.Faults) > 0 && p.Faults[0].Restart {
		select {
		case r := <-restarted:
			<-r.Done()
		case <-time.After(time.Minute):
			t.Error("no restart")
		}
	}
	tr.Close()
	<-got
	in.Stop()
	b, _ := os.ReadFile(outPath)
	return dir, rows, string(b), in
}

// files reads every file under dir: path -> contents ("/" for a folder).
func files(t *testing.T, dir string) map[string]string {
	t.Helper()
	got := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			got[rel] = "/"
			return nil
		}
		b, err := os.ReadFile(p)
		got[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestPowerloss: a power loss at tn disk's last call leaves on disk
// exactly what package durable says survives, file by file: appends not
// yet synced cut off (or, torn, half kept and the rest zeros), overwrites
// of synced bytes undone from their saved pre-images, a truncation undone,
// a rename and a creation no sync covered undone, an unlink undone from
// the file kept in the journal.
func TestPowerloss(t *testing.T) {
	fault := format.Fault{Kind: format.FaultPowerloss, Target: format.Target{Node: "w", Syscall: "pread64"}}
	for _, tc := range []struct {
		torn bool
		mode string
		log  string
		note string
	}{
		{false, "", "aaaa",
			"power loss of w (ordered) rolled back $D/d/data.tmp: 2 writes (5 bytes), 1 size change, rename $D/d/data.tmp -> $D/d/data; $D/d/log: 1 write (12 bytes); $D/d/old: unlink of $D/d/old; $D/d/data: gone; $D/d/new: gone"},
		{true, "", "aaaabbbbbb\x00\x00\x00\x00\x00\x00",
			"power loss of w (ordered, torn) rolled back $D/d/data.tmp: 2 writes (5 bytes), 1 size change, rename $D/d/data.tmp -> $D/d/data; $D/d/log: 1 write (12 bytes), the oldest torn; $D/d/old: unlink of $D/d/old; $D/d/data: gone; $D/d/new: gone"},
		// POSIX: no directory was synced, so not even d survives.
		{false, "posix", "", ""},
	} {
		f := fault
		f.Torn, f.Mode = tc.torn, tc.mode
		p := &format.Plan{V: format.PlanVersionDisk, ID: "p1", Faults: []format.Fault{f}, Why: "test"}
		dir, rows, out, in := diskRun(t, p, "power loss of w")
		if out != "" {
			t.Errorf("torn %v: tn printed %q, want nothing (no call failed, and it was killed before done)", tc.torn, out)
		}
		if m := marked(rows); len(m) != 1 || m[0].Syscall != "pread64" || m[0].Fault != "p1:powerloss" {
			dump(t, rows)
			t.Fatalf("torn %v: marked rows %+v, want the pread64", tc.torn, m)
		}
		want := map[string]string{"d": "/", "d/log": tc.log, "d/data.tmp": "0123456789", "d/old": "old!"}
		if tc.mode == "posix" {
			want = map[string]string{}
		}
		got := files(t, dir)
		delete(got, ".pain-journal")
		for k := range got {
			if strings.HasPrefix(k, ".pain-journal/") {
				delete(got, k)
			}
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("torn %v: %s holds %q, want %q", tc.torn, k, got[k], v)
			}
		}
		for k := range got {
			if _, ok := want[k]; !ok {
				t.Errorf("torn %v: %s is left (%q), want it gone", tc.torn, k, got[k])
			}
		}
		if notes := in.Notes(); tc.note != "" && !slices.Contains(notes, tc.note) {
			t.Errorf("torn %v: notes %q\nwant %q", tc.torn, notes, tc.note)
		}
		if tc.note != "" {
			// The result's rolled_back says what the note says, file by file.
			want := []format.RolledBack{
				{Node: "w", File: "$D/d/data.tmp", Writes: 2, Bytes: 5, Sizes: 1, Names: []string{"rename $D/d/data.tmp -> $D/d/data"}},
				{Node: "w", File: "$D/d/log", Writes: 1, Bytes: 12, Torn: tc.torn},
				{Node: "w", File: "$D/d/old", Names: []string{"unlink of $D/d/old"}},
				{Node: "w", File: "$D/d/data", Gone: true},
				{Node: "w", File: "$D/d/new", Gone: true},
			}
			if got := in.RolledBack(); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("torn %v: rolled back %+v\nwant %+v", tc.torn, got, want)
			}
		}
	}
}

// TestPowerlossRefused: a node that maps a file shared and writable writes
// it with no call; the model cannot follow it, so a power loss of it does
// not fire, and the note says why.
func TestPowerlossRefused(t *testing.T) {
	p := &format.Plan{V: format.PlanVersionDisk, ID: "p1", Why: "test",
		Faults: []format.Fault{{Kind: format.FaultPowerloss, Target: format.Target{Node: "w", Syscall: "pread64"}}}}
	_, rows, out, in := diskRun(t, p, "", "mmap")
	if out != "done\n" {
		t.Errorf("tn printed %q, want done", out)
	}
	if len(in.Fired()) != 0 || len(marked(rows)) != 0 {
		t.Errorf("the power loss fired: %+v", in.Fired())
	}
	want := "fault 1 (powerloss) refused: w: mmap $D/d/log: a shared writable mapping: its writes are no calls"
	if !slices.Contains(in.Notes(), want) {
		t.Errorf("notes %q, want %q", in.Notes(), want)
	}
}

// TestPowerlossRestart: the node restarts on what the power loss left.
// tn disk runs again on it: d survived (its mkdir fails), the log holds
// the synced "aaaa" twice then the second run's appends, and the second
// run's files are all there (no power loss this time).
func TestPowerlossRestart(t *testing.T) {
	p := &format.Plan{V: format.PlanVersionDisk, ID: "p1", Why: "test",
		Faults: []format.Fault{{Kind: format.FaultPowerloss, Restart: true, Duration: format.Duration(50 * time.Millisecond),
			Target: format.Target{Node: "w", Syscall: "pread64"}}}}
	dir, _, out, _ := diskRun(t, p, "power loss of w")
	if out != "mkdir: File exists\ndone\n" {
		t.Errorf("tn printed %q, want the restarted run's mkdir failing and done", out)
	}
	want := map[string]string{"d": "/", "d/log": "aaaaaaaabbbbbbbbbbbb", "d/data": "01XY456789\x00\x00\x00\x00\x00", "d/new": "new"}
	got := files(t, dir)
	for k := range got {
		if k == ".pain-journal" || strings.HasPrefix(k, ".pain-journal/") {
			delete(got, k)
		}
	}
	if !maps.Equal(got, want) {
		t.Errorf("files after the restarted run:\n%q\nwant\n%q", got, want)
	}
}

// TestPowerlossTwoNodes: a power loss of two nodes at one moment rolls
// back the files of both, a node whose processes had all ended included
// (its page cache goes too): v ran tn disk to its end, then w's power
// loss at its pread takes v's unsynced writes and name changes as well.
func TestPowerlossTwoNodes(t *testing.T) {
	progs.Need(t)
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"w", "v"} {
		os.Mkdir(filepath.Join(dir, n), 0o755)
	}
	p := &format.Plan{V: format.PlanVersionDisk, ID: "p1", Why: "test", Faults: []format.Fault{{Kind: format.FaultPowerloss,
		Nodes: []string{"w", "v"}, Target: format.Target{Node: "w", Syscall: "pread64"}}}}
	in, err := New(p, Options{Log: func(m string) { t.Log(m) }})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := tracer.New(tracer.Config{Hook: in, Files: []tracer.FileRoot{{Dir: dir, Name: "$D"}}})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan struct{})
	go func() {
		for range tr.Events() {
		}
		close(got)
	}()
	for _, n := range []string{"v", "w"} {
		proc, err := tr.Start(tracer.Spec{Node: n, Argv: []string{progs.Path("tn"), "disk", filepath.Join(dir, n)}})
		if err != nil {
			t.Fatal(err)
		}
		<-proc.Done()
	}
	for end := time.Now().Add(time.Minute); len(in.Notes()) < 2 && time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
	}
	tr.Close()
	<-got
	in.Stop()
	notes := in.Notes()
	slices.Sort(notes)
	want := []string{
		"power loss of v (ordered) rolled back $D/v/d/data.tmp: 2 writes (5 bytes), 1 size change, rename $D/v/d/data.tmp -> $D/v/d/data; $D/v/d/log: 1 write (12 bytes); $D/v/d/old: unlink of $D/v/d/old; $D/v/d/data: gone; $D/v/d/new: gone",
		"power loss of w (ordered) rolled back $D/w/d/data.tmp: 2 writes (5 bytes), 1 size change, rename $D/w/d/data.tmp -> $D/w/d/data; $D/w/d/log: 1 write (12 bytes); $D/w/d/old: unlink of $D/w/d/old; $D/w/d/data: gone; $D/w/d/new: gone",
	}
	if !slices.Equal(notes, want) {
		t.Errorf("notes:\n%s\nwant\n%s", strings.Join(notes, "\n"), strings.Join(want, "\n"))
	}
	left := files(t, dir)
	for _, n := range []string{"w", "v"} {
		for k, v := range map[string]string{"d/log": "aaaa", "d/data.tmp": "0123456789", "d/old": "old!"} {
			if left[n+"/"+k] != v {
				t.Errorf("%s/%s holds %q, want %q", n, k, left[n+"/"+k], v)
			}
		}
		for _, k := range []string{"d/data", "d/new"} {
			if _, ok := left[n+"/"+k]; ok {
				t.Errorf("%s/%s is left", n, k)
			}
		}
	}
}
