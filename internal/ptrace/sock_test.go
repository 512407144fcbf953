package ptrace

import (
	"slices"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/boxofpain/pain/internal/prereq"
)

// TestUnixPeer checks that sock_diag names the connectors queued on a unix
// listener, in order, and the connector of an accepted socket.
func TestUnixPeer(t *testing.T) {
	l, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(l)
	addr := &unix.SockaddrUnix{Name: "@pain-ptrace-unixpeer-test"}
	if err := unix.Bind(l, addr); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(l, 8); err != nil {
		t.Fatal(err)
	}
	ino := func(fd int) uint64 {
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			t.Fatal(err)
		}
		return st.Ino
	}
	var conns []uint64
	for range 3 {
		c, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := unix.Connect(c, addr); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, ino(c))
		defer unix.Close(c)
	}
	var st unix.Stat_t
	unix.Fstat(l, &st)
	q := UnixQueue(st.Ino)
	if q == nil {
		prereq.Missing(t, "no unix_diag (sock_diag for unix sockets) in this kernel")
	}
	if !slices.Equal(q, conns) {
		t.Errorf("queue %v, want %v", q, conns)
	}
	for i, want := range conns {
		a, _, err := unix.Accept(l)
		if err != nil {
			t.Fatal(err)
		}
		got := UnixPeer(ino(a))
		unix.Close(a)
		if got != want {
			t.Errorf("connection %d: peer inode %d, want %d", i, got, want)
		}
	}
}
