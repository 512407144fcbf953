//go:build linux && amd64

package ptrace

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// The shim: a program that calls Shim first thing in main can be
// re-executed as a tiny launcher. The tracer starts /proc/self/exe with
// envShim set; the child (still on its main thread) waits until the tracer
// has seized it, installs the seccomp filter and execs the real command.
// Setpgid and Pdeathsig come from the fork itself.
const envShim = "PAIN_TRACE_SHIM"

const (
	shimExec          = "exec"       // install the filter, then exec
	shimExecNoSeccomp = "exec-sys"   // exec without a filter (PTRACE_SYSCALL mode)
	shimWait          = "wait"       // sleep forever: the tracer's wake-up child
	shimExecOnly      = "exec-only:" // + call numbers: install a filter stopping at those only, then exec
)

// What the shim tells the tracer once it runs (runShim).
const (
	shimRuns    = 'r' // on the main thread: seize it
	shimOffMain = 't' // on another thread: the tracer would seize the wrong one
)

// The shim's and the waker's argv[0].
const (
	shimArg0  = "pain-trace-shim"
	wakerArg0 = "pain-trace-waker"
)

// shimReady says Shim was called: a program that did not call it would
// run itself again in place of the shim.
var shimReady atomic.Bool

// init keeps a program started as the shim on its main thread. The tracer
// seizes that thread alone (the pid), so the shim must exec from it. The
// runtime runs package initialization on the main thread, and a lock taken
// there holds into main.main; once main.main runs unlocked, the scheduler
// may move it to another thread before Shim's own lock (a preemption does,
// under load). Run untraced there, the shim's seccomp filter made its
// exec, its error message and its exit fail with ENOSYS: it spun for good
// and its node never started.
func init() {
	if os.Getenv(envShim) != "" {
		runtime.LockOSThread()
	}
}

// errShimOffMain is returned by the starters when the shim ran off its
// main thread, which init prevents.
var errShimOffMain = errors.New("ptrace: the launcher shim ran off its main thread")

// errNoShim is returned by the starters when the program never called Shim.
var errNoShim = errors.New("ptrace: this program does not call ptrace.Shim from main, so it cannot start traced processes")

// Shim must be called first thing in main (or TestMain) by every program
// that starts traced processes. In such a program re-executed as the
// launcher shim (or as the tracer's wake-up child) it never returns;
// otherwise it returns at once.
func Shim() {
	shimReady.Store(true)
	mode := os.Getenv(envShim)
	if mode == "" {
		if len(os.Args) > 0 && (os.Args[0] == shimArg0 || os.Args[0] == wakerArg0) {
			// Started as the shim, but without its mode: a test binary
			// would run its whole suite as a traced node (it did, for
			// ten minutes). Say so and stop.
			n := 0
			for _, kv := range os.Environ() {
				if strings.HasPrefix(kv, envShim+"=") {
					n++
				}
			}
			fmt.Fprintf(os.Stderr, "pain-trace: %s started without %s in its environment (%d entries of it)\n", os.Args[0], envShim, n)
			os.Exit(127)
		}
		return
	}
	// init locked us to the main thread: only it is seized, and exec must
	// come from it.
	if mode == shimWait {
		for {
			time.Sleep(time.Hour)
		}
	}
	os.Exit(runShim(mode))
}

func runShim(mode string) int {
	// fd 4: tell the tracer our exec is complete, and whether we run on
	// the main thread, the one it seizes (init); fd 3: a pipe the tracer
	// closes once it has seized us.
	var b [1]byte
	if syscall.Gettid() != syscall.Getpid() {
		syscall.Write(4, []byte{shimOffMain})
		fmt.Fprintln(os.Stderr, "pain-trace: shim: not on the main thread")
		return 126
	}
	syscall.Write(4, []byte{shimRuns})
	syscall.Close(4)
	for {
		_, err := syscall.Read(3, b[:])
		if err != syscall.EINTR {
			break
		}
	}
	syscall.Close(3)
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "pain-trace: shim: no command")
		return 127
	}
	env := make([]string, 0, len(os.Environ()))
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, envShim+"=") {
			env = append(env, kv)
		}
	}
	only, narrow := onlyCalls(mode)
	if mode == shimExec || narrow {
		if err := installFilter(only); err != nil {
			fmt.Fprintf(os.Stderr, "pain-trace: cannot install seccomp filter: %v\n", err)
			return 126
		}
	}
	err := syscall.Exec(os.Args[1], os.Args[2:], env)
	fmt.Fprintf(os.Stderr, "pain-trace: exec %s: %v\n", os.Args[1], err)
	return 127
}

// onlyCalls reads the call numbers of a shimExecOnly mode.
func onlyCalls(mode string) ([]int, bool) {
	list, ok := strings.CutPrefix(mode, shimExecOnly)
	if !ok {
		return nil, false
	}
	only := []int{}
	for _, f := range strings.Split(list, ",") {
		if n, err := strconv.Atoi(f); err == nil {
			only = append(only, n)
		}
	}
	return only, true
}

// Attr describes a process to start.
type Attr struct {
	Path  string   // resolved executable path
	Argv  []string // argv, argv[0] included
	Env   []string
	Dir   string
	Files []uintptr // stdin, stdout, stderr
	// Cgroup, when set, is the folder of the cgroup v2 the process is
	// born in (clone3's CLONE_INTO_CGROUP): in it before it makes any
	// socket, whose cgroup is fixed when it is made (package netcut).
	Cgroup *os.File
}

// StartTraced starts a through the shim on the calling (tracer) thread,
// seizes it with SeizeOptions and lets it exec. With seccomp false the shim
// installs no filter and the tracer must use PTRACE_SYSCALL.
func StartTraced(a Attr, seccomp bool) (int, error) {
	mode := shimExec
	if !seccomp {
		mode = shimExecNoSeccomp
	}
	return startShim(a, mode, nil, SeizeOptions)
}

// StartGated starts a through the shim on the calling (tracer) thread
// without tracing its calls: once the shim runs, admit(pid) is called (to
// make an eBPF recorder follow it), the shim is seized with LeashOptions
// (so the run dies with the tracer), and it execs the command, with no
// seccomp filter.
func StartGated(a Attr, admit func(pid int) error) (int, error) {
	return startShim(a, shimExecNoSeccomp, admit, LeashOptions)
}

// StartStopping starts a as StartGated does, an eBPF recorder following
// it (admit), but with a seccomp filter that stops it at the calls
// numbered in only (an injected run's fault points), seized with
// StopOptions: the tracer handles those stops as under ptrace.
func StartStopping(a Attr, admit func(pid int) error, only []int) (int, error) {
	nrs := make([]string, len(only))
	for i, n := range only {
		nrs[i] = strconv.Itoa(n)
	}
	return startShim(a, shimExecOnly+strings.Join(nrs, ","), admit, StopOptions)
}

// startShim forks the shim in mode, waits until it runs, calls admit (when
// not nil), seizes it with opts and then lets it exec a. Seizing only once
// the shim runs matters: seizing during its own exec would report that exec
// as the command's.
func startShim(a Attr, mode string, admit func(pid int) error, opts int) (int, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return 0, err
	}
	rr, rw, err := os.Pipe()
	if err != nil {
		r.Close()
		w.Close()
		return 0, err
	}
	defer rr.Close()
	defer w.Close() // closing it lets the shim exec
	argv := append([]string{shimArg0, a.Path}, a.Argv...)
	env := append(append([]string(nil), a.Env...), envShim+"="+mode)
	pid, err := forkShim(argv, env, a.Dir, append(append([]uintptr(nil), a.Files...), r.Fd(), rw.Fd()), a.Cgroup)
	r.Close()
	rw.Close()
	if err != nil {
		return 0, err
	}
	var b [1]byte
	rr.Read(b[:])
	if b[0] == shimOffMain {
		syscall.Kill(pid, syscall.SIGKILL)
		return pid, errShimOffMain
	}
	if admit != nil {
		if err := admit(pid); err != nil {
			syscall.Kill(pid, syscall.SIGKILL)
			return pid, fmt.Errorf("admit %d: %w", pid, err)
		}
	}
	if err := Seize(pid, opts); err != nil {
		syscall.Kill(pid, syscall.SIGKILL)
		return pid, err
	}
	return pid, nil
}

// StartWaker starts the tracer's wake-up child: a process that only sleeps,
// seized so that a signal sent to it (Wake) ends the tracer's wait.
func StartWaker() (int, error) {
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return 0, err
	}
	defer devnull.Close()
	fd := devnull.Fd()
	pid, err := forkShim([]string{wakerArg0}, []string{envShim + "=" + shimWait}, "/", []uintptr{fd, fd, fd}, nil)
	if err != nil {
		return 0, err
	}
	if err := Seize(pid, int(SeizeOptions)); err != nil {
		syscall.Kill(pid, syscall.SIGKILL)
		return 0, err
	}
	return pid, nil
}

// Wake interrupts the tracer's Wait by signalling the waker's main thread.
func Wake(waker int) { Tgkill(waker, waker, syscall.SIGUSR1) }

// StartPlain starts an untraced process in its own process group and, where
// the kernel lets us (root, or unprivileged user namespaces), as init of a
// PID namespace of its own: everything it starts, a background child
// included, dies when it ends, and it dies with the tracer (Pdeathsig), so
// nothing it started outlives even a SIGKILLed tracer.
func StartPlain(a Attr) (int, error) {
	uid, gid := os.Getuid(), os.Getgid()
	var err error
	for _, sys := range []*syscall.SysProcAttr{
		{Cloneflags: syscall.CLONE_NEWPID},
		{Cloneflags: syscall.CLONE_NEWPID | syscall.CLONE_NEWUSER,
			UidMappings: []syscall.SysProcIDMap{{ContainerID: uid, HostID: uid, Size: 1}},
			GidMappings: []syscall.SysProcIDMap{{ContainerID: gid, HostID: gid, Size: 1}}},
		{}, // no namespaces here: the process group is all there is
	} {
		sys.Setpgid, sys.Pdeathsig = true, syscall.SIGKILL
		var pid int
		pid, err = syscall.ForkExec(a.Path, a.Argv, &syscall.ProcAttr{Dir: a.Dir, Env: a.Env, Files: a.Files, Sys: sys})
		if err == nil {
			return pid, nil
		}
		if err != syscall.EPERM && err != syscall.EINVAL && err != syscall.ENOSPC && err != syscall.EUSERS {
			return 0, err
		}
	}
	return 0, err
}

func forkShim(argv, env []string, dir string, files []uintptr, cgroup *os.File) (int, error) {
	if !shimReady.Load() {
		return 0, errNoShim
	}
	sys := &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if cgroup != nil {
		sys.UseCgroupFD, sys.CgroupFD = true, int(cgroup.Fd())
	}
	return syscall.ForkExec("/proc/self/exe", argv, &syscall.ProcAttr{Dir: dir, Env: env, Files: files, Sys: sys})
}

// SeccompAvailable reports whether this kernel has seccomp filters (the
// Seccomp_filters line of /proc/self/status).
func SeccompAvailable() bool {
	b, err := os.ReadFile("/proc/self/status")
	return err == nil && strings.Contains(string(b), "Seccomp_filters:")
}
