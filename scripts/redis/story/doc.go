// Command story draws the part of a traced Redis run that matters to the
// workload as a space-time diagram small enough to read: a Mermaid sequence
// diagram (GitHub and mermaid.live render it; it reads as text too).
//
// Usage:
//
//	story [-nodes LIST] [-from NODE] [-quiet LIST] trace.arrows
//
// Every stream transfer between two traced nodes of LIST (default: the six
// Redis nodes, workload and check) from the first event of node -from
// (default workload) on becomes an arrow from sender to receiver, labelled
// with the Redis command or reply it starts with (the trace must hold
// payload prefixes: pain-trace/pain-inject -payload 64), or its size.
// Periodic chatter whose first word is in -quiet (default: PING, +PONG,
// INFO and its replies, REPLCONF, PUBLISH __sentinel__:hello and pub/sub
// pushes) is left out. Consecutive transfers of one sender on one
// connection are one message. A block of messages that repeats with only
// its arguments changing (a SET, its replication and its +OK, a hundred
// times) is drawn once with "×n" and its first and last arguments. Rows a
// fault acted on, node deaths and pauses longer than half a second become
// notes.
//
// Exit status: 0 ok, 2 usage or input error.
package main
