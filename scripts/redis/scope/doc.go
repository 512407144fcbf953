// Command scope keeps the fault plans that act while the workload runs.
//
// Usage:
//
//	scope [-o scoped.jsonl] [-max N] [-after NODE] [-spread=false] plans.jsonl run.arrows...
//
// pain-plan ranks every message the outcome depends on, and in a system
// with a long start-up (Redis: replication handshakes, Sentinels meeting
// each other) the first hundred plans all act before the workload's first
// write. A fault there cannot lose an acknowledged write: none exists yet.
// scope finds each plan's target calls in the fault-free traces (the same
// matching as the injector: node, thread, syscall or class, conn, peer,
// byte offset, window, nth) and keeps, in the planner's order, the plans
// with a fault that lands at or after the first event of node NODE
// (default workload) in at least one run. Plans whose target was seen in
// no run are dropped too. With -spread (the default) the kept plans are
// taken round-robin over their kinds (drop, crash, delay, errno, and
// combinations), in the planner's order within each kind: pain-plan ranks
// every drop before the first delay, and a small budget should ask each
// question once before asking one of them again. At most N plans are
// written (default 20; 0 all).
//
// Exit status: 0 ok, 2 usage or input error. A summary goes to stderr.
package main
