// Package kvstore is an example distributed system to trace and break: a primary and two
// backups that replicate a key-value store over TCP, with a fault-handling bug of a kind
// found in real stores. The programs are under cmd/ (see README.md):
//
//   - kvnode: a primary (-role primary) or a backup (-role backup);
//   - kvload: the workload, which writes keys and records the acknowledged ones;
//   - kvcheck: the check, which promotes a backup and fails if an acknowledged write is gone.
//
// The tests in this directory start the nodes as real processes on loopback and show the
// bug with a real fault (a backup paused longer than the primary waits), and that kvnode
// -fixed does not lose acknowledged writes under the same fault.
package kvstore
