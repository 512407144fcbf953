// Command pain-track turns many traces into the few schedules a system really
// runs: it builds the happens-before graph of each run in stable names,
// reduces it to a canonical schedule, groups runs by schedule, ranks the
// schedules by how many runs showed them, counts how often each message
// edge occurs, and estimates with Good-Turing (singletons / runs) how likely
// the next run is to show a schedule not seen yet.
//
// Usage:
//
//	pain-track [-o schedules.arrows] [-json] [-text] [-dot DIR] [-top N]
//	           [-granularity message|syscall|class] [-cpuprofile F] FILE...
//	pain-track [flags] - <list       (file names, one a line)
//	pain-track [flags] - <run.arrows (one trace or schedules file)
//
// FILEs are traces (pain-trace's .arrows, or their text form) and earlier
// schedules files (-o output), in any mix: tracking shards on different
// machines and merging their schedules files gives exactly what tracking
// all traces at once gives. Traces with the same run name (pain.run, or the
// file name when there is none) are parts of one run, such as the nodes of
// one run traced on several hosts: their rows make one graph, matched by
// connection names and byte offsets, never by time. Two such files from one
// host (pain.host) are refused (exit 2, naming both) when they cannot be
// parts of one run: the same start time (one trace given twice, or a copy)
// or times that do not overlap (two runs under one name). Runs are read one
// at a time, so memory holds one run plus the aggregate. The -o file may not
// be one of the inputs, by any name.
//
// A FILE "-" is stdin, once: a trace or schedules file (an Arrow stream, or
// a trace's text form starting "# pain "), or else a list of file names,
// one a line, blank lines skipped (find runs -name '*.arrows' | pain-track
// -). A text trace without its "# pain" header is taken for a list.
//
//	-o FILE        write the schedules file (format/schedules.go documents it;
//	               it names each run's trace files relative to its folder)
//	-json          print the summary as one JSON object instead of text:
//	               granularity, runs, distinct, singletons, unseen,
//	               schedules [{id, rank, runs, share, run_names, threads,
//	               messages, classes, events, untied}], edges [{key, kind,
//	               runs, share}]; classes counts the message classes tied
//	               to workload requests that the schedule saw; untied (class
//	               granularity) the messages tied to none, per class of a
//	               socket, [{class, min, max}] over the schedule's runs
//	-text          print the text form of the schedules file instead
//	-dot DIR       write a Graphviz space-time diagram of each of the top
//	               schedules (schedule-RANK-ID.dot: one lane per thread,
//	               message arrows, runs of events without messages collapsed;
//	               where a node's writes not yet durable change, an orange
//	               box says what a power loss there would take, the fault's
//	               box what it took, and each node's label its syncs)
//	               and a Chrome/Perfetto trace-event file of the top one
//	               (schedule-1-ID.trace.json: each call a slice over its
//	               real entry and exit when the run's traces are among the
//	               inputs, or named by a schedules file among them and
//	               still there, each message a flow arrow from the send's slice
//	               to the receive's; open it in ui.perfetto.dev or
//	               chrome://tracing)
//	-q             no progress line on stderr (there is none either when
//	               stderr is not a terminal)
//	-top N         how many schedules get diagrams and run lists (default 3)
//	-granularity   message (default): consecutive sends or receives of one
//	               thread on one stream are one message, so TCP's splitting
//	               and merging of bytes makes no new schedules; syscall: one
//	               event per system call; class: the messages tied to the
//	               workload's requests, named by class and ordinal
//	               ("primary:main:s1>backup1:listen0 -> w5 #1": the
//	               replication of the workload's 5th request), one lane
//	               per node, so heartbeats and other timer traffic, byte
//	               offsets and thread timing make no new schedules and
//	               message support adds up across runs (package msgclass);
//	               the summary gives each schedule's untied messages per
//	               class, the fewest and the most of its runs
//	-cpuprofile F  write a CPU profile (go tool pprof) to F
//
// The summary goes to stdout; stderr gets warnings and, at the end, how
// many runs and events were tracked and how long it took.
//
// A trace cut short (its tracer was killed) is used up to its last complete
// batch, with a warning that says so. A file that is not a pain trace or
// schedules file, a newer format version, a corrupt file or schedules of
// another granularity: an error naming the file, exit status 2.
//
// The work is done by package internal/track; this command is its flags.
package main
