// Command kvcheck is the kvstore example's check: it plays the failover manager after the
// primary is presumed lost, promotes a backup, and verifies that the promoted backup holds
// every write the workload recorded as acknowledged (the -acked file of kvload).
//
// Usage:
//
//	kvcheck [-backups 127.0.0.1:7102,127.0.0.1:7103] [-acked acked.txt] [-timeout 2s]
//
// Promotion rule: ask the backups for their data (DUMP) in the order given, and promote the
// first one that answers and has joined a primary. A backup that does not answer in time
// (crashed, partitioned, paused) is skipped, and so is one that never joined: a backup that
// restarted has lost its memory and must be resynced before it may lead. This is the usual
// designated-successor failover (a fixed standby priority, as in keepalived or a replica
// priority), and it is safe exactly when every backup that joined and still runs holds every
// acknowledged write, which is what kvnode -fixed guarantees and the default kvnode does not.
//
// Exit status: 0 when the promoted backup holds every acknowledged write (or nothing was
// acknowledged, or the -acked file does not exist because the workload never started), 1
// when an acknowledged write is missing or no backup can be promoted (the message on stderr
// names the key), 2 on a usage error or an unreadable -acked file.
package main
