//go:build linux && amd64

package ebpfrec

import (
	"fmt"
	"os"
	"regexp"
	"runtime"
	"syscall"
	"testing"
	"unsafe"

	"github.com/cilium/ebpf"

	"github.com/boxofpain/pain/internal/prereq"
	"github.com/boxofpain/pain/internal/tracer"
)

// TestVerifierCost loads the programs with the verifier's statistics and
// counts the instructions it processed, the bulk of the recorder's fixed
// cost (every pain-trace -backend ebpf pays it): 25,969 for sys_exit
// before its helpers became global functions and the hash loop an
// open-coded iterator, 5,789 after.
func TestVerifierCost(t *testing.T) {
	if err := Available(); err != nil {
		prereq.Missing(t, "%v", err)
	}
	prereq.Root(t, "the eBPF recorder")
	spec, err := loadRecorder()
	if err != nil {
		t.Fatal(err)
	}
	coll, err := ebpf.NewCollectionWithOptions(spec, ebpf.CollectionOptions{Programs: ebpf.ProgramOptions{LogLevel: ebpf.LogLevelStats}})
	if err != nil {
		t.Fatal(err)
	}
	defer coll.Close()
	processed := regexp.MustCompile(`processed (\d+) insns`)
	total := 0
	for name, p := range coll.Programs {
		m := processed.FindStringSubmatch(p.VerifierLog)
		if m == nil {
			t.Fatalf("%s: no count in the verifier's log: %q", name, p.VerifierLog)
		}
		var n int
		fmt.Sscan(m[1], &n)
		t.Logf("%s: %d instructions processed", name, n)
		total += n
	}
	for name, m := range coll.Maps {
		if info, err := m.Info(); err == nil {
			if b, ok := info.Memlock(); ok {
				t.Logf("map %s: %d entries, %d bytes of kernel memory", name, m.MaxEntries(), b)
			}
		}
	}
	if total > 10000 {
		t.Errorf("the verifier processed %d instructions, want at most 10,000", total)
	}
}

// TestReadAllocs records a socket pair's writes and reads made by this
// process and counts what Read allocates per record: the batch it hands
// to the tracer (a tracer.Record each) and nothing else. Before the batch
// was made at its size, it was three times that, from append's growth.
func TestReadAllocs(t *testing.T) {
	if err := Available(); err != nil {
		prereq.Missing(t, "%v", err)
	}
	prereq.Root(t, "the eBPF recorder")
	rec, err := Open(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fds[0])
	defer syscall.Close(fds[1])
	if err := rec.Admit(os.Getpid()); err != nil {
		t.Fatal(err)
	}
	const n = 5000
	buf := make([]byte, 100)
	var before, after runtime.MemStats
	got := 0
	// Twice: the first round grows Read's queue to its size.
	for range 2 {
		for range n {
			syscall.Write(fds[0], buf)
			syscall.Read(fds[1], buf)
		}
		runtime.ReadMemStats(&before)
		got = 0
		for got < 2*n {
			b, err := rec.Read()
			if err != nil {
				t.Fatal(err)
			}
			got += len(b)
		}
		runtime.ReadMemStats(&after)
	}
	allocs := float64(after.Mallocs-before.Mallocs) / float64(got)
	bytes := float64(after.TotalAlloc-before.TotalAlloc) / float64(got)
	size := float64(unsafe.Sizeof(tracer.Record{}))
	t.Logf("%d records: %.3f allocations and %.0f bytes per record (a tracer.Record is %.0f bytes); %d lost", got, allocs, bytes, size, rec.Lost())
	if allocs > 0.05 || bytes > 1.2*size {
		t.Errorf("Read allocates %.3f times and %.0f bytes per record, want at most 0.05 and %.0f", allocs, bytes, 1.2*size)
	}
}
