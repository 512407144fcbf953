package ptrace

import (
	"net"
	"os"
	"runtime"
	"testing"

	"github.com/boxofpain/pain/internal/prereq"
)

// TestNewNetns moves a locked thread into a new network namespace: it must
// differ from the test's own, have its loopback up, and let a listener bind
// a port that the test's namespace already uses.
func TestNewNetns(t *testing.T) {
	prereq.Root(t, "creating a network namespace")
	outside, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer outside.Close()
	type result struct {
		ns  string
		err error
		up  bool
		lis error
	}
	done := make(chan result)
	go func() {
		// Never unlocked: the thread ends with this goroutine.
		runtime.LockOSThread()
		var r result
		if r.err = NewNetns(); r.err != nil {
			done <- r
			return
		}
		r.ns, _ = os.Readlink("/proc/thread-self/ns/net")
		if lo, err := net.InterfaceByName("lo"); err == nil {
			r.up = lo.Flags&net.FlagUp != 0
		}
		// Socket creation happens on this thread, so in its namespace.
		l, err := net.Listen("tcp", outside.Addr().String())
		if err == nil {
			l.Close()
		}
		r.lis = err
		done <- r
	}()
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	mine, err := os.Readlink("/proc/thread-self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	if r.ns == "" || r.ns == mine {
		t.Errorf("namespace of the locked thread %q, of the test %q: want a new one", r.ns, mine)
	}
	if !r.up {
		t.Error("loopback is not up in the new namespace")
	}
	if r.lis != nil {
		t.Errorf("listen on %s in the new namespace: %v", outside.Addr(), r.lis)
	}
}
