package tracer

import (
	"runtime"
	"syscall"
	"testing"

	"github.com/boxofpain/pain/format"
)

// envHop makes this test binary, started as the launcher shim, move its
// main goroutine off the main thread before it calls ptrace.Shim
// (TestMain).
const envHop = "PAIN_TEST_SHIM_HOP"

// hopOffMainThread moves the calling goroutine off the process's main
// thread where the scheduler lets it, as a preemption under load may do
// between the runtime's init and main's first call: a goroutine started
// from it runs on the main thread once the caller blocks (unless another
// thread takes it first: then it tries again), and locks that thread to
// itself for good. A goroutine locked to the main thread cannot be moved:
// the helpers land elsewhere and it stays.
func hopOffMainThread() {
	for i := 0; i < 100 && syscall.Gettid() == syscall.Getpid(); i++ {
		held := make(chan bool)
		go func() {
			runtime.LockOSThread()
			if syscall.Gettid() != syscall.Getpid() {
				runtime.UnlockOSThread()
				held <- false
				return
			}
			held <- true
			select {} // keep the main thread from the caller
		}()
		<-held
	}
}

// TestShimOffMainThread: a shim whose main goroutine left the main thread
// before it called ptrace.Shim still runs its command traced. The tracer
// seizes the main thread only; a shim on another thread ran untraced,
// where its seccomp filter made its exec, its error message and its exit
// fail (ENOSYS): it spun for good and the node never started (TestCrash
// failed so, rarely, under load).
func TestShimOffMainThread(t *testing.T) {
	progs.Need(t)
	t.Setenv(envHop, "1") // the shim inherits the environment
	rows, code := traceArgv(t, Config{}, "n", []string{"true"})
	if len(rows) == 0 || rows[0].Syscall != format.EventStart || code != 0 {
		dump(t, rows)
		t.Fatalf("exit code %d; want a start row and exit code 0", code)
	}
}
