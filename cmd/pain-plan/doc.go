// Command pain-plan chooses fault plans from the schedules pain-track found:
// lineage-driven fault injection over the happens-before graphs of the runs.
//
// Usage:
//
//	pain-plan [-o plans.jsonl] [-text] [-max N] [-k K] [-pause D] [-restart D] [-delay D] [-results FILE]... schedules.arrows
//	pain-plan -r plans.jsonl [-id ID]
//	pain-plan -shrink plans.jsonl -id ID [-o subsets.jsonl] [-text]
//
// The messages it strikes are those the workload's or the check's events
// depend on, and those between system nodes that carry the workload's data
// (what a node sends between reading a client's request and the next
// unrelated message: replication, consensus). Each gets the faults that take
// it away or stall it: crash its sender or receiver and restart it after
// -restart (durability, rejoin); pause the node for -pause, past the
// failure detector (a stale leader); partition the node from the other
// system nodes for -pause, while clients still reach both sides
// (split brain); drop it (a stream is shut down at that send, as a crashed
// peer would); crash a node for good; and, where the system sends messages
// of its own while the workload runs (timers: heartbeats, gossip, leases),
// delay the send by -pause (or by -delay on every message).
//
// Plans are ranked, most telling first: faults on messages between system
// nodes that carry the workload's data, then on other traffic between them
// while the workload runs, then on the workload's own connections, then on
// start-up. The top of the list is spread over families (fault kind × node
// × connection), so the first plans ask different questions. With K >= 2,
// sets of up to K messages that together carry the outcome in every
// schedule (hitting sets) and sequences of the same fault on up to K
// different nodes in turn (kill and restart three followers) join their
// tier after its single faults.
//
// With -results (result lines written by pain-inject, repeatable), plans
// already tried are skipped and the list goes on where the last round left
// off; families of plans that survived go down the list; schedules of the
// injected runs (track their traces together with the fault-free ones)
// give the next round: faults on the recovery paths a fault opened, on top
// of that fault, first.
//
// Plans go to -o as JSON Lines (one plan per line, version "v": 1, see
// package format), written whole or not at all, and stdout stays empty;
// without -o the JSON Lines go to stdout. -text prints the plans ranked on
// stdout instead, one line of words each (rank, support, the plan). -r prints the
// plans of a file in words (only plan ID with -id). -shrink prints the plans
// made of the proper subsets of plan ID's faults, smallest first: injected
// in turn, the first that breaks the check is a smallest failing plan.
//
// Flags:
//
//	-o FILE       write the plans here (default: stdout)
//	-text         print the plans ranked, in words, on stdout (beside -o, or instead of the JSON Lines)
//	-max N        at most N plans (default 50; 0 for all)
//	-k K          largest combination or sequence of faults in one plan (default 2)
//	-pause D      how long pauses stop a node and partitions last (default 6s)
//	-restart D    how long a crashed node stays down before its restart (default 1s)
//	-delay D      plan delays of D on every message (default: delays of -pause where there are timers)
//	-results FILE pain-inject results: skip their plans, learn from their verdicts and recovery paths
//	-r FILE       print the plans of FILE in words
//	-shrink FILE  print the plans made of subsets of plan -id's faults
//	-id ID        with -r: only this plan; with -shrink: the plan to shrink
//
// Exit status: 0 ok, 2 usage or input error.
//
// The planner is package plan (plan.FromFile reads a round's inputs into
// it); package planio holds the files; this command is its flags.
package main
