// Command pain-inject runs a system once with a fault plan applied at the
// system calls it names, traces the run, and says in one JSON line what
// happened: whether the plan fired, where, and what the check said.
//
// Usage:
//
//	pain-inject -plan FILE|- [-id ID] [-o injected.arrows] [-repeat N] [-backend ptrace|ebpf] -f Procfile [-w CMD] [-check CMD]
//	            [-ready CMD] [-timeout D] [-grace D] [-run NAME] [-payload N] [-threads auto|os|process]
//	            [-netns] [-rundir DIR]
//	pain-inject -plan FILE|- [-id ID] [-o injected.arrows] [-check CMD] [-timeout D] -- CMD ARGS...
//
// The plan comes from a plans.jsonl file (as pain-plan writes it; "-" reads
// stdin): the one whose id is -id, or the first. The system is described and
// run exactly as pain-trace runs it (same flags, see pain-trace): the nodes
// start, the workload and the check run as traced nodes, everything is
// stopped at the end. Meanwhile the plan's faults act on the first matching
// call of their window, in stable names (see internal/inject): a call fails
// with an errno, a message is dropped (a datagram vanishes while its sender
// sees success; a stream is shut down at that point, as a crashed peer
// would), a thread is held, a node is killed (and restarted from its
// Procfile line) or stopped for a while, two sets of nodes are
// partitioned (silently: the kernel drops the packets between them, see
// internal/netcut; this needs root and cgroup v2), one or several nodes lose power (killed at once, their files
// in the run's folder rolled back to what a power loss leaves, then
// restarted if asked), a write writes half of what it asks, or a durable
// byte of a file is flipped. The check runs once the restarts the faults
// scheduled are done.
//
// The trace (default <plan id>.arrows) is a pain-trace trace whose metadata
// holds the plan (pain.plan) and whose run name is the plan id and the start
// time ("p3@20261130T231502.123456789Z"), so that repeated runs of a plan
// are different runs to pain-track; the rows a fault acted on have the fault
// column set ("p3:drop"). stdout gets one result line (format.Result):
//
//	{"v":1,"plan":"p3","fired":true,"where":[{"fault":0,"node":"primary","thread":"main.2","seq":14,"syscall":"write","time_ns":812345678}],"check":1,"verdict":"bug","trace":"p3.arrows","wall_ms":2310,"faults":["drop the message of ..."]}
//
// Verdicts: "not-fired" when no fault found its call; otherwise "bug" when
// the check failed, or when the run hung and was stopped at -timeout (the
// note field says which phase), and "survived" when the check passed or
// there was none; "interrupted" when the run was cut short (SIGINT, SIGTERM,
// or a trace that could not be written): the check is not started then, and
// the result says nothing about the system. With `-- CMD` and no -check, the
// command's exit status is the check, as in pain-trace. In a plan of several
// faults, some of which did not fire, the verdict counts the ones that did
// and the note names the others.
//
// Flags:
//
//	-plan FILE   plans (JSON Lines); - for stdin (required)
//	-id ID       the plan to apply (default: the first in FILE)
//	-o FILE      trace output (default: <plan id>.arrows)
//	-repeat N    run the plan N times (traces FILE, FILE-2.arrows, ...) and
//	             print one result line for them all: "runs", "fired_runs"
//	             and "bugs" count them (bugs/runs is the reproduction
//	             rate); the verdict is bug if any run found one, and the
//	             other fields describe the first run with that verdict
//	             (package internal/repeat). After each run stderr says
//	             how far the runs are and what they found ("3/5 runs:
//	             bug 2, survived 1"): on a terminal in one line rewritten
//	             in place under the other messages, otherwise in a line
//	             of its own per run
//	-backend B   ptrace (default): every recorded call of every node
//	             stops; ebpf: the run is recorded by the eBPF recorder
//	             (as pain-trace -backend ebpf) and stops only at the calls
//	             the plan can act on, in the nodes it can act on
//	             (inject.Stops), deciding each stop on every record made
//	             before it, so faults fire where they fire under ptrace.
//	             A plan that needs every call (file faults, windows, process
//	             calls) runs under full ptrace, said on stderr. Needs root,
//	             BTF and -seccomp; no -payload
//	-f, -w, -check, -ready, -timeout, -grace, -run, -payload, -seccomp,
//	-threads, -netns, -rundir, -hold:
//	             as for pain-trace (both take them from package launch);
//	             -run defaults to the plan id and start time. -timeout
//	             limits each phase:
//	             a faulted system that hangs is killed then and reported,
//	             never left running. With -threads process (and auto, for
//	             a Go program), a fault's thread is the name of every
//	             thread of its process.
//
// Exit status: 1 bug, 0 survived, 3 not-fired, 4 inconclusive (the fault
// fired and the check exited 125: it could not judge), 2 usage or tool error,
// including a system that never became ready although no fault had fired and
// a plan that names a node the system does not have (then no result line),
// and an interrupted run or a trace that could not be written (then the
// result line comes first, with the reason in its note). A system that never
// became ready after a fault fired is a bug; a node the plan crashed for
// good (no restart) is not waited for, since the rest of the system is meant
// to go on without it.
//
// Progress and problems go to stderr as "pain-inject: ..." lines, with the
// nodes' own output and, in the -- CMD form, the command's stdout: stdout
// holds the result line alone.
package main
