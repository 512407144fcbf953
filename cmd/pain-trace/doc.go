// Command pain-trace records an unmodified multi-process system at the
// system-call level as a trace file (a zstd Arrow IPC stream, see package
// format), in stable names that are the same in two runs that did the same
// thing.
//
// Usage:
//
//	pain-trace -o run.arrows -f Procfile [-w CMD] [-check CMD] [-ready CMD]
//	           [-timeout D] [-grace D] [-run NAME] [-payload N] [-threads auto|os|process]
//	           [-netns] [-rundir DIR] [-hold CMD]
//	pain-trace -o run.arrows [-check CMD] [-timeout D] -- CMD ARGS...
//	pain-trace -r run.arrows [-e trace=SET] [-node PATTERNS] [-conn PATTERNS]
//	pain-trace -r run.arrows -as parquet|csv|jsonl [-o OUT] [filters]
//	pain-trace -r results.jsonl|plans.jsonl|schedules.arrows -as parquet|csv|jsonl [-o OUT]
//
// With -f, each Procfile line "name: command" starts a node (the command runs
// with /bin/sh -c; all its descendants belong to the node). pain-trace waits
// until every node has called listen() (or until the -ready command, run
// untraced every 100ms, succeeds), runs the workload as node "workload", then
// the check as node "check", then sends SIGTERM to everything still running
// and SIGKILL after the grace period. The -ready command is part of the run:
// bounded by -timeout, and run as init of a PID namespace of its own where
// the kernel allows (root, or unprivileged user namespaces), so whatever it
// leaves in the background dies when it ends, or when pain-trace dies.
//
// With -- CMD ARGS, CMD's whole process tree is traced; the root is node
// basename(CMD) and a forked child that execs becomes node
// "<parent node>/<basename>.<k>".
//
// With -r, the trace is printed as text, one event per line (- reads
// stdin). A trace cut short is printed up to its last complete batch, with
// a warning; a corrupt one is an error naming the batch (exit 2). The
// filters work as strace users expect: -e trace=network,read (system call
// names and the classes network, process, signal and desc; !SET for all
// but SET), -node and -conn with comma-separated shell patterns. A payload
// kept with -payload prints as data="escaped text" when it is text, as
// payload=hex otherwise; dur= is the time from the call's entry to its exit.
//
// With -as, the trace is exported for analysis tools instead, to -o (written
// whole or not at all) or stdout: parquet (Arrow Go's column writer, zstd; the
// trace's metadata in the Parquet key-value metadata), csv or jsonl, each
// with a run column first, then start_ns (the call's entry) and the trace
// columns. Many runs then read as one table:
//
//	duckdb -c "select run, node, count(*) from read_parquet('runs/*.parquet') group by all"
//
// A round's other files export the same way, a row per line or run, with
// the columns that join them to the traces (package export, round.go):
// results (run, plan, verdict, fired, check, faults in words, where the
// first fault fired, trace, wall_ms, runs, fired_runs, bugs, note,
// check_output), plans (plan, rank, kinds, nodes, words, why, evidence) and
// a schedules file (run, schedule, rank, runs, share, granularity, plan; -r
// without -as prints its text form). pain-trace is the one command that
// exports: the Parquet writer stays out of the others (internal/layers).
//
// Flags (all but -o and -r describe the system and are the same in
// pain-inject):
//
//	-o FILE      trace output (required unless -r)
//	-backend B   recorder (pain-trace only): ptrace (default) or ebpf, eBPF
//	             programs on the system call tracepoints of the run's
//	             processes: no stops, for fault-free runs; same rows and
//	             names, with the limits in the README and in the trace's
//	             metadata (pain.x.ebpf.limits). Needs root and a kernel
//	             with BTF. No -payload.
//	-f FILE      Procfile
//	-w CMD       workload, run once the nodes are ready
//	-check CMD   check, run after the workload; its exit status decides
//	-ready CMD   readiness command, instead of waiting for listen()
//	-hold CMD    for a host that runs only nodes of a run whose workload
//	             and check run on another host: once the nodes are ready,
//	             run CMD untraced and keep the nodes until it exits (no -w,
//	             no -check; -timeout bounds it). See "Several hosts" in the
//	             README.
//	-timeout D   limit of each phase: readiness, workload, check (default 30s; > 0)
//	-grace D     time between SIGTERM and SIGKILL at the end (default 2s; > 0)
//	-run NAME    run name stored in the trace (default: the output file name)
//	-payload N   keep the first N bytes of each transfer (default 0)
//	-seccomp     use a seccomp filter so only recorded calls stop (default true)
//	-threads T   thread naming: auto (default: process for the processes
//	             of Go programs, found by their .go.buildinfo section, os
//	             for the others), os (each OS thread is a thread, named by
//	             clone order) or process (all threads of a process share
//	             its name and one row sequence, and get no clone, start or
//	             exited rows: for Go and JVM programs, whose work moves
//	             between OS threads so per-thread names vary by run). The
//	             trace's metadata says which (pain.x.threads)
//	-netns       run the system (nodes, ready command, workload, check) in a
//	             network namespace of its own, with only a loopback
//	             interface, up: any number of runs of one Procfile on the
//	             same ports share a machine. The namespace has no name and
//	             goes with the run, also when pain-trace is killed. The
//	             system reaches nothing outside it. Needs root; off by
//	             default for that reason, and because a system that uses a
//	             service outside the run (a database on the host) cannot.
//	-rundir DIR  the run's scratch folder, exported to every process of
//	             the run as $PAIN_RUN_DIR (for per-run data directories:
//	             `kv1: kvserver -data $PAIN_RUN_DIR/kv1`); created if
//	             missing and kept. Without it each run gets a new temporary
//	             folder ($TMPDIR/pain-run-*), removed when the run ends;
//	             the folder of a killed pain-trace goes at the next run
//	             (a live run holds a lock on its folder).
//	-compress C  zstd (default), or none: batches stored uncompressed, for
//	             Arrow readers without a zstd codec (Arrow JS, duckdb-wasm)
//	-r FILE      print a trace as text (- for stdin)
//	-as F        with -r: export as parquet, csv or jsonl
//	-e, -node, -conn   with -r: keep only the rows selected
//
// Exit status: 0 the check passed (or there is none; with -- and no check,
// the command succeeded), 1 the check failed (with --: the command failed)
// or a phase hung and was killed after -timeout, 4 the check exited 125 (it
// could not judge the run), 2 usage or tool error,
// including a system that never became ready, an output file that is also
// an input, and a run cut short: SIGINT or SIGTERM ("interrupted": the
// check is not started; a second one skips the grace period and kills
// everything at once) or a trace that cannot be written (the run stops at
// the first failed write). A node that ends early and a node that crashes
// are reported on stderr; the trace stays valid up to its last batch.
//
// Progress and problems go to stderr as "pain-trace: ..." lines; the nodes'
// own output goes to stderr too. With PAIN_CPUPROFILE=FILE in its
// environment, pain-trace writes a CPU profile of the run to FILE (go tool
// pprof) and says on stderr the CPU time it used itself, its traced
// processes left out: what recording costs (scripts/bench/mintrace says
// the same of the ptrace floor). With -- CMD ARGS, the command has
// pain-trace's stdin and stdout.
//
// The run is package launch's, judged by package verdict; -r is package
// export's. This command is its flags.
package main
