// Command kvnode is one node of the kvstore example: a primary that takes writes from
// clients and copies each one to its backups, or a backup that keeps the copies.
//
// Usage:
//
//	kvnode -role primary [-listen 127.0.0.1:7101] [-backups 127.0.0.1:7102,127.0.0.1:7103] [-fixed] [-timeout 2s] [-heartbeat 0]
//	kvnode -role backup -listen 127.0.0.1:7102 [-data DIR [-sync before|after]]
//
// Protocol: one text line per request and per reply, over TCP.
//
//	client -> primary   PUT key value      reply OK, or ERR reason
//	primary -> backup   HELLO              reply OK (the backup has now joined a primary)
//	primary -> backup   PUT key value      reply OK once the backup holds the write
//	anyone -> backup    DUMP               reply JOINED yes|no, then "key value" lines, then END
//	primary -> backup   PING               reply PONG (heartbeats, with -heartbeat D)
//
// The primary connects to its backups, in the order given, when the first write arrives, and
// keeps those two connections. For every write it sends PUT to backup 1 and waits for its OK,
// then the same with backup 2, then answers the client.
//
// The bug (default): when a backup fails (a connect, send or reply that errs, a closed
// connection, or no reply within -timeout), the primary logs it, forgets that backup and
// acknowledges the write anyway, and every later one without it. With -fixed it answers ERR
// instead and refuses every later write: a write is acknowledged only when every backup has
// acknowledged it and all the writes before it.
//
// With -heartbeat D the primary also pings each backup every D, give or take half of it, on a
// connection of its own from a thread of its own, from start-up on: timer traffic whose count
// differs from run to run, as in real replicated stores (Procfile.heartbeat). It changes
// nothing else; message classes (pain-track -granularity class) see through it.
//
// With -data DIR a backup keeps a write-ahead log, DIR/wal.log (one line a HELLO or PUT,
// appended), and recovers from it before it listens, cutting off a torn last record. It
// creates DIR and the log durably (the directory holding each new name is synced). With
// -sync before (the default) it fdatasyncs a record before answering OK; with -sync after it
// answers first and syncs right after: a power loss between the two loses a write the
// primary and the client were told was stored (Procfile.wal; Procfile.wal.fixed is correct).
//
// Nodes exit 0 on SIGTERM or SIGINT. Errors with flags exit 2.
package main
