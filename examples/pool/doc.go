// Package pool is a small replicated store written the way Go servers are:
// its leader keeps a pool of connections to each follower, dialled
// concurrently at start (so which member is opened first, and which
// carries which write, changes from run to run), spreads the writes over
// them from goroutines the runtime moves between threads, and pings every
// follower on a timer over the same pool. Standard library only, real
// sockets, real goroutines: a target for connection classes (package
// msgclass) and process-level thread naming (pain-trace -threads auto).
//
//	poolnode -role leader -listen ADDR -followers A,B [-pool 3] [-heartbeat 20ms] [-timeout 300ms] [-fixed]
//	poolnode -role follower -listen ADDR
//	poolload -leader ADDR -n N -acked FILE    the workload: PUT k1..kN, recording the acknowledged ones
//	poolcheck -followers A,B -acked FILE      the check: every acknowledged write is on every follower
//
// Protocol: one text line per request and per reply. Client to leader: PUT
// key value, answered OK or ERR. Leader to follower: PUT key value (OK) and
// PING (PONG). Anyone to a follower: DUMP, answered by "key value" lines and
// END.
//
// The bug (default): when a follower fails (an error or no answer within
// -timeout, to a write or to a ping), the leader forgets it and goes on
// acknowledging writes without it, so a follower that comes back lacks
// acknowledged writes. With -fixed the leader answers ERR instead, for that
// write and every later one. Procfile runs the buggy store,
// Procfile.fixed the correct one; pool_test.go traces, plans and injects.
package pool
