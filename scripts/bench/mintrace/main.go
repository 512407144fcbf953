//go:build linux && amd64

// Command mintrace is the floor of ptrace tracing on this machine, for
// scripts/bench: it starts a command through the same launcher and seccomp
// filter as pain-trace (internal/ptrace), follows its forks, clones and
// execs, and at each call the filter reports takes one entry stop and one
// exit stop, reading the registers at each. It decodes nothing, keeps
// nothing and writes nothing: whatever pain-trace costs beyond this is the
// price of its record.
//
// Usage: mintrace COMMAND [ARGS...]
//
// Its exit status is the command's (128+signal when killed). On stderr it
// prints the number of calls it saw and the CPU time it used itself.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"syscall"

	"github.com/boxofpain/pain/internal/ptrace"
)

func main() {
	ptrace.Shim()
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: mintrace COMMAND [ARGS...]")
		os.Exit(2)
	}
	code, err := run(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "mintrace:", err)
		os.Exit(2)
	}
	os.Exit(code)
}

func run(argv []string) (int, error) {
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return 0, err
	}
	runtime.LockOSThread()
	ptrace.QuietStops()
	root, err := ptrace.StartTraced(ptrace.Attr{Path: path, Argv: argv, Env: os.Environ(),
		Files: []uintptr{0, 1, 2}}, true)
	if err != nil {
		return 0, err
	}
	var (
		ws    ptrace.WaitStatus
		regs  ptrace.Regs
		calls int
		code  = -1
		live  = 1
	)
	for live > 0 {
		tid, err := ptrace.Wait(&ws)
		if err != nil {
			return 0, err
		}
		switch {
		case ws.Exited() || ws.Signaled():
			live--
			if tid == root {
				code = ws.ExitStatus()
				if ws.Signaled() {
					code = 128 + int(ws.Signal())
				}
			}
			continue
		case !ws.Stopped():
			continue
		}
		sig := ws.StopSignal()
		switch ev := ptrace.Event(ws); {
		case ev == ptrace.EventSeccomp:
			// Entry: registers, then run to the exit stop.
			ptrace.GetRegs(tid, &regs)
			calls++
			ptrace.Syscall(tid, 0)
		case sig == ptrace.SyscallTrap:
			// Exit: registers, then run to the next filtered call.
			ptrace.GetRegs(tid, &regs)
			ptrace.Cont(tid, 0)
		case ev == ptrace.EventExec:
			ptrace.SetOptions(tid, ptrace.Options)
			ptrace.Cont(tid, 0)
		case ev == ptrace.EventClone || ev == ptrace.EventFork || ev == ptrace.EventVfork:
			live++
			ptrace.Cont(tid, 0)
		case ev == ptrace.EventStop && (sig == syscall.SIGSTOP || sig == syscall.SIGTSTP ||
			sig == syscall.SIGTTIN || sig == syscall.SIGTTOU):
			ptrace.Listen(tid)
		case ev != 0:
			ptrace.Cont(tid, 0)
		default:
			ptrace.Cont(tid, int(sig))
		}
	}
	fmt.Fprintf(os.Stderr, "mintrace: %d calls\n", calls)
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		fmt.Fprintf(os.Stderr, "mintrace: cpu: user %.3fs sys %.3fs\n",
			float64(ru.Utime.Nano())/1e9, float64(ru.Stime.Nano())/1e9)
	}
	return code, nil
}
