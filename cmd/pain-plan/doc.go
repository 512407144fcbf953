// Command pain-plan chooses fault plans from the schedules pain-track found:
// lineage-driven fault injection over the happens-before graphs of the runs.
//
// Usage:
//
//	pain-plan [-o plans.jsonl] [-max N] [-k K] [-delay D] [-results FILE]... schedules.arrows
//	pain-plan -r plans.jsonl [-id ID]
//
// Plans are ranked, most promising first. A message that the workload's or
// the check's events depend on in every observed schedule is a single point
// of failure, and its faults come first: drop it (a stream is shut down at
// that send, as a crashed peer would), crash its sender just before it goes
// out, crash its receiver just before it arrives; messages between servers
// before messages to and from clients. Then sets of up to K messages that
// together carry the outcome in every schedule (hitting sets). With -results
// (result lines written by pain-inject, repeatable), plans already tried are
// skipped, and schedules of those injected runs (track their traces together
// with the fault-free ones) give the next round: faults on the recovery path
// a fault opened, on top of that fault.
//
// Plans go to -o as JSON Lines (one plan per line, version "v": 1, see
// package format), written whole or not at all, and stdout gets each plan in
// one line of words. Without -o the JSON Lines go to stdout. -r prints the
// plans of a file in words (only plan ID with -id).
//
// Flags:
//
//	-o FILE       write the plans here (default: stdout)
//	-max N        at most N plans (default 50; 0 for all)
//	-k K          largest combination of faults in one plan (default 2)
//	-delay D      also plan delays of D (e.g. 2s) on each message
//	-results FILE pain-inject results: skip their plans, extend their recovery paths
//	-r FILE       print the plans of FILE in words
//	-id ID        with -r: only this plan
//
// Exit status: 0 ok, 2 usage or input error.
package main
