// Command rediswl is the workload, the check and the readiness probe for the
// Redis replication experiment (scripts/redis): one primary, two replicas and
// three Sentinels on loopback. It speaks RESP over TCP itself, so the traced
// client is a single small process whose socket calls all happen on its main
// thread (stable names across runs).
//
// Usage:
//
//	rediswl ready   -sentinels A,B,C [-replicas 2] [-strict 5s] [-wait 30s]
//	rediswl write   -sentinels A,B,C -acked FILE [-n 100] [-timeout 10s] [-retry 10s] [-gap 0] [-elapsed FILE] [-settle 20s]
//	rediswl check   -sentinels A,B,C -acked FILE [-quiet 0] [-settle 20s]
//	rediswl primary -sentinels A,B,C
//
// ready waits until the Sentinels agree on a primary whose replicas take its
// replication stream (a PUBLISH acknowledged through WAIT), and every Sentinel
// knows the primary, the replicas and the other Sentinels. After -strict a
// degraded system is ready too (a majority of Sentinels with quorum, one
// replica streaming), so that a fault injected during start-up is judged by
// the check. Exit 0 ready, 1 not ready within -wait.
//
// write asks a Sentinel for the current primary and writes keys k0001..kN
// (values v0001..), appending each acknowledged key to FILE as soon as the
// acknowledgement arrives. On an error it asks the Sentinels again and
// retries the key for up to -retry; then it gives up the remaining keys.
// Then it waits until the Sentinels settle (they agree on a primary, none
// sees it down or is failing over, and it answers as a master), so that a
// failover a fault set off happens inside the run. -elapsed FILE records how
// long all that took (for scripts/redis/overhead.sh). Exit 0 unless misused.
//
// check waits -quiet first (longer than down-after-milliseconds: a fault
// that cut the primary off, with its clients still writing to it, has set
// off the failure detectors by then), then for the Sentinels to settle the
// same way, asks them for the current primary and reads every acknowledged
// key there with MGET. A primary that does not answer is asked again, after
// settling again, until -settle has passed: a node that was paused or a
// failover under way is no finding. Exit 0 when all are there with their
// values, 1 naming the lost keys (or when no primary answered for all that
// time: acknowledged writes are unreadable), 2 on usage errors. With
// -server (one server, no Sentinels) a server that never answers is no
// finding: the check exits 125, "cannot judge" (pain-inject's verdict
// inconclusive), since a Redis that stops on purpose (it exits when an
// fsync of its append-only file fails) has lost nothing we can see.
//
// Asynchronous replication means a failover may lose writes the old primary
// acknowledged: Redis documents this. A primary held (SIGSTOP, or its main
// thread delayed) for longer than the Sentinels' down-after-milliseconds
// plus an election gets replaced by a replica; when it resumes it still
// answers the client it was serving, and acknowledges writes that the new
// primary never sees. The check then fails.
//
// -master names the monitored master (default mymaster) for every command.
// -server ADDR replaces the Sentinels by one server (the AOF experiment,
// scripts/redis/aof.sh): write and check talk to it, and it is settled
// once it answers PING.
package main
