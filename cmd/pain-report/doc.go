// Command pain-report writes the page of a round: one self-contained HTML
// file (styles, script and pictures inline; nothing fetched) that says
// what broke, how, how often, and how to reproduce it.
//
// Usage:
//
//	pain-report [-o report.html] [-plans FILE]... [-results FILE]... [-title TEXT] [-top N] schedules.arrows [TRACE...]
//
// It reads the schedules file pain-track wrote, the plans files of
// pain-plan (-o and -shrink), the results pain-inject printed, and,
// optionally, the fault-free traces (their metadata only: the system's
// commands and start times). The traces of injected runs are found by the
// paths their results name (from where the round ran, or under the
// results file's folder). The page shows:
//
//   - the round at a glance: the system (its nodes' commands, workload,
//     check), runs traced, schedules seen, the Good-Turing chance of an
//     unseen schedule plotted as the runs accumulate, plans made, tried,
//     fired, bugs, wall time;
//   - the schedules, ranked, with their share and space-time diagrams
//     (the top -top), the messages every run shares drawn solid;
//   - every plan: rank, the plan in words, kind, where it fired, verdict,
//     reproduction rate (pain-inject -repeat), the check's own output,
//     the command line that reruns it, a link to its trace;
//   - every bug: its run drawn with the fault marked, the messages every
//     fault-free run had that it lacks, the note of what a power loss
//     rolled back, the smallest failing plan where -shrink ran and its
//     subsets were tried, and its Perfetto file (embedded: saved from the
//     page).
//
// Tables sort by a click on a column and filter as you type. The page is
// written whole or not at all; links are relative to its folder. A fifth
// command, rather than a flag of pain-track or pain-inject, because a
// round's page reads every tool's files, and so the tracer binaries carry
// no templates.
//
// Exit status: 0 written, 2 a usage error or a file that cannot be read
// (pain-report: FILE: what is wrong).
package main
