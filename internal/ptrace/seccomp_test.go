package ptrace

import (
	"encoding/binary"
	"math/bits"
	"testing"

	"github.com/boxofpain/pain/internal/sysent"
	"golang.org/x/sys/unix"
)

// run interprets the classic BPF subset Filter uses on a seccomp_data.
func run(t *testing.T, prog []unix.SockFilter, arch uint32, nr int, args ...uint64) uint32 {
	var data [64]byte
	binary.LittleEndian.PutUint32(data[0:], uint32(nr))
	binary.LittleEndian.PutUint32(data[4:], arch)
	for i, a := range args {
		binary.LittleEndian.PutUint64(data[16+8*i:], a)
	}
	var acc uint32
	steps = 0
	for pc := 0; pc < len(prog); pc++ {
		steps++
		in := prog[pc]
		switch in.Code {
		case unix.BPF_LD | unix.BPF_W | unix.BPF_ABS:
			acc = binary.LittleEndian.Uint32(data[in.K:])
		case unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K:
			if acc == in.K {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K:
			if acc >= in.K {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case unix.BPF_JMP | unix.BPF_JA:
			pc += int(in.K)
		case unix.BPF_RET | unix.BPF_K:
			return in.K
		default:
			t.Fatalf("pc %d: unexpected instruction %#x", pc, in.Code)
		}
	}
	t.Fatal("fell off the end of the program")
	return 0
}

// steps is how many instructions the last run executed.
var steps int

// TestFilterSearch: every x86-64 call number is traced exactly when the
// table lists it, in a few instructions whatever the table's size (the
// search is a binary one).
func TestFilterSearch(t *testing.T) {
	prog := Filter()
	listed := map[int]bool{}
	for _, e := range sysent.Table {
		listed[e.Nr] = len(e.ArgVals) == 0 && len(e.ArgSkip) == 0
	}
	most := 0
	for nr := 0; nr < 512; nr++ {
		got := run(t, prog, unix.AUDIT_ARCH_X86_64, nr)
		most = max(most, steps)
		want := uint32(unix.SECCOMP_RET_ALLOW)
		if listed[nr] {
			want = unix.SECCOMP_RET_TRACE
		}
		if _, conditional := listed[nr]; !conditional || listed[nr] {
			if got != want {
				t.Errorf("call %d: %#x, want %#x", nr, got, want)
			}
		}
	}
	if bound := 4 + 2*bits.Len(uint(len(sysent.Table))) + leaf + 1; most > bound {
		t.Errorf("a call runs %d instructions, want at most %d", most, bound)
	}
	t.Logf("%d instructions for %d calls; at most %d run per call", len(prog), len(sysent.Table), most)
}

func TestFilter(t *testing.T) {
	prog := Filter()
	if len(prog) > 255 {
		t.Fatalf("%d instructions", len(prog))
	}
	const x86 = unix.AUDIT_ARCH_X86_64
	trace, allow := uint32(unix.SECCOMP_RET_TRACE), uint32(unix.SECCOMP_RET_ALLOW)
	for _, e := range sysent.Table {
		if len(e.ArgVals) > 0 || len(e.ArgSkip) > 0 {
			continue
		}
		if got := run(t, prog, x86, e.Nr); got != trace {
			t.Errorf("%s: %#x, want TRACE", e.Name, got)
		}
	}
	for _, c := range []struct {
		name string
		arch uint32
		nr   int
		args []uint64
		want uint32
	}{
		{"getpid", x86, 39, nil, allow},
		{"stat", x86, 4, nil, allow},
		{"openat", x86, 257, nil, trace},
		{"mmap anonymous", x86, 9, []uint64{0, 4096, 3, 0x22, 0xffffffff}, allow},
		{"mmap of a file", x86, 9, []uint64{0, 4096, 3, 1, 5}, trace},
		{"fcntl F_SETFL", x86, 72, []uint64{3, 4}, allow},
		{"fcntl F_DUPFD", x86, 72, []uint64{3, 0}, trace},
		{"fcntl F_DUPFD_CLOEXEC", x86, 72, []uint64{3, 1030}, trace},
		{"tgkill SIGURG", x86, 234, []uint64{1, 2, 23}, allow},
		{"tgkill SIGTERM", x86, 234, []uint64{1, 2, 15}, trace},
		{"tkill SIGURG", x86, 200, []uint64{2, 23}, allow},
		{"tkill SIGKILL", x86, 200, []uint64{2, 9}, trace},
		{"i386 write", unix.AUDIT_ARCH_I386, 4, nil, allow},
		{"x32 write", x86, 0x40000001, nil, allow},
	} {
		if got := run(t, prog, c.arch, c.nr, c.args...); got != c.want {
			t.Errorf("%s: %#x, want %#x", c.name, got, c.want)
		}
	}
}

func TestFormatSockaddr(t *testing.T) {
	v4 := []byte{2, 0, 0x1f, 0x90, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}
	v6 := make([]byte, 28)
	v6[0] = 10
	v6[2], v6[3] = 0, 80
	v6[23] = 1
	mapped := make([]byte, 28)
	mapped[0] = 10
	mapped[3] = 80
	copy(mapped[8:], []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 2})
	for _, c := range []struct {
		in   []byte
		want string
	}{
		{v4, "127.0.0.1:8080"},
		{v6, "[::1]:80"},
		{mapped, "10.0.0.2:80"},
		{append([]byte{1, 0}, "/tmp/s\x00junk"...), "/tmp/s"},
		{append([]byte{1, 0}, "\x00abs"...), "@abs"},
		{[]byte{1, 0}, ""},
		{[]byte{2}, ""},
		{[]byte{16, 0, 1, 2}, "family16"},
	} {
		if got := FormatSockaddr(c.in); got != c.want {
			t.Errorf("%v: %q, want %q", c.in, got, c.want)
		}
	}
}

// FuzzFormatSockaddr: addresses come from tracee memory; any bytes must
// format without a panic.
func FuzzFormatSockaddr(f *testing.F) {
	f.Add([]byte{2, 0, 0x1f, 0x90, 127, 0, 0, 1})
	f.Add(append([]byte{10, 0, 0, 80}, make([]byte, 24)...))
	f.Add(append([]byte{1, 0}, "/tmp/s"...))
	f.Fuzz(func(t *testing.T, b []byte) {
		FormatSockaddr(b)
	})
}

// TestFilterOf: a narrow filter traces its calls alone (an injected run
// recorded with eBPF stops at the calls its plan can act on), and none at
// all when given none.
func TestFilterOf(t *testing.T) {
	const x86 = unix.AUDIT_ARCH_X86_64
	trace, allow := uint32(unix.SECCOMP_RET_TRACE), uint32(unix.SECCOMP_RET_ALLOW)
	only := []int{0, 1, 42, 72} // read, write, connect, fcntl (by its argument)
	prog := FilterOf(only)
	for _, e := range sysent.Table {
		if len(e.ArgVals) > 0 || len(e.ArgSkip) > 0 {
			continue
		}
		want := allow
		if e.Nr == 0 || e.Nr == 1 || e.Nr == 42 {
			want = trace
		}
		if got := run(t, prog, x86, e.Nr); got != want {
			t.Errorf("%s: %#x, want %#x", e.Name, got, want)
		}
	}
	if got := run(t, prog, x86, 72, 3, 0); got != trace {
		t.Errorf("fcntl F_DUPFD: %#x, want TRACE", got)
	}
	if got := run(t, prog, x86, 72, 3, 4); got != allow {
		t.Errorf("fcntl F_SETFL: %#x, want ALLOW", got)
	}
	for _, nr := range []int{0, 1, 42, 257} {
		if got := run(t, FilterOf([]int{}), x86, nr); got != allow {
			t.Errorf("no calls: call %d: %#x, want ALLOW", nr, got)
		}
	}
	if n, ok := onlyCalls(shimExecOnly + "0,1,42"); !ok || len(n) != 3 || n[2] != 42 {
		t.Errorf("onlyCalls: %v %v", n, ok)
	}
}
