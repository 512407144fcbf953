// Package format holds the files the pain tools write and read: what they
// contain, how they are versioned, and their text forms.
//
// # Traces (.arrows)
//
// A trace is an Apache Arrow IPC stream (the "streaming format", file
// extension .arrows), its record batches compressed with zstd (or not, on
// request). Arrow implementations with a zstd codec read it
// (pyarrow.ipc.open_stream, arrow-rs, Arrow Go); Arrow JS reads the
// uncompressed form; `pain-trace -r` prints the text form, and `pain-trace
// -r -as parquet` exports it for SQL engines such as DuckDB, which has no
// reader for Arrow streams without an extension. One row is one system
// call, its entry and exit folded together, or one process event.
//
// The schema metadata says what the file is:
//
//	pain.format   format version (this package writes 2, reads 1 and 2,
//	              refuses newer)
//	pain.kind     "trace"
//	pain.tool     tool and version that wrote it
//	pain.run      run name
//	pain.host     host name
//	pain.kernel   kernel release
//	pain.start    wall-clock start time, RFC 3339
//	pain.cmd.N    command line of node N
//	pain.plan     in an injected run, the fault plan applied (JSON; read
//	              into Meta.Plan with its version checked)
//	pain.x.K      tool-specific extras
//
// The columns, in order (the table traceColumns in columns.go is the same
// list as data; a test keeps the two in step). Version 1 has the first 21;
// version 2 added dur_ns at the end, so a version 1 file reads as version 2
// with every duration 0. Every utf8 column
// is dictionary-encoded (int16 indices, a new dictionary for each batch),
// since names repeat from row to row: a loopback ping-pong takes under 6
// bytes a row.
//
//	time_ns       int64   nanoseconds since the run started, at syscall exit;
//	                      to the microsecond under ptrace, to the nanosecond
//	                      under eBPF (pain.x.resolution_ns: 1000 or 1)
//	node          utf8    stable node name: Procfile name, workload, check, or
//	                      derived from the process tree (parent/basename.k)
//	thread        utf8    stable thread name: main, then P.k for the k-th
//	                      clone, fork or vfork done by thread P
//	seq           int64   0-based ordinal of the row within node and thread
//	pid           int32   process id in this run
//	tid           int32   thread id in this run
//	syscall       utf8    system call name, or a process event:
//	                      start (first row of a thread; peer is its creator),
//	                      exited (ret is the exit status),
//	                      signaled (arg is the signal),
//	                      teardown (node and thread "-": the launcher
//	                      began to stop the nodes; later rows of the file
//	                      are teardown, no part of a schedule; files
//	                      without it, older ones too, have no teardown)
//	fd            int32   file descriptor acted on, -1 for none
//	fd_kind       utf8    tcp, udp, unix, pipe, file or other; empty for none
//	local         utf8    stable name of this end of the fd: node:listenK for
//	                      a listening socket, node:bindK for a bound datagram
//	                      socket, node:thread:sK for the K-th socket or pipe
//	                      made by that thread (node:thread:unconnected from
//	                      a connect that failed before the socket ever
//	                      connected, listened or carried a byte), or the raw
//	                      address where no traced process owns it; for a
//	                      file, its stable name (see Files below)
//	peer          utf8    stable name of the other end; for clone, fork,
//	                      wait4 and kill the other thread as node/thread; for
//	                      rename and link the new name
//	local_addr    utf8    raw local address (127.0.0.1:7001, [::1]:7001,
//	                      /path or @abstract for unix sockets)
//	peer_addr     utf8    raw peer address
//	conn          utf8    stable connection id, equal at both ends:
//	                      connecting-endpoint>listening-endpoint; for pipes
//	                      and socketpairs the endpoint of their creation
//	offset        int64   byte offset of this call's data within its direction
//	                      of its connection (stream sockets and pipes), so the
//	                      write of n bytes at offset o is read by the reads
//	                      that cover [o, o+n); for a file, where in the file
//	                      a read or write started (appends: where they
//	                      landed), the new size for ftruncate and truncate,
//	                      the start of fallocate's and sync_file_range's
//	                      range; -1 where none
//	ret           int64   return value; for data calls the bytes actually
//	                      transferred; -1 on failure
//	errno         utf8    error name when the call failed (ECONNRESET)
//	payload_hash  uint64  FNV-1a (64 bit) of the bytes transferred, 0 for none
//	payload       binary  optional prefix of those bytes (pain-trace -payload N),
//	                      null when not kept
//	arg           utf8    detail: exec path, signal name, an open's flags
//	                      (O_WRONLY|O_CREAT|O_APPEND), the length of a
//	                      fallocate or sync_file_range; free text
//	fault         utf8    in injected runs, the fault that acted on this call
//	dur_ns        int64   nanoseconds from the call's entry to its exit, so
//	                      the call ran over [time_ns-dur_ns, time_ns]
//	                      (strace -T); 0 for process events (version 2)
//
// # Files
//
// Rows of fd_kind file (format version 3; a version 2 file, which has none,
// still reads: no column changed) follow the files of a run's folder ($PAIN_RUN_DIR): opens
// (open, openat, creat) with their flags, reads and writes (read, pread64,
// readv, preadv, preadv2, write, pwrite64, writev, pwritev, pwritev2) with
// offset, length (ret) and payload_hash, syncs (fsync, fdatasync,
// sync_file_range, syncfs, sync), rename, renameat, renameat2, link,
// linkat, unlink, unlinkat, mkdir, mkdirat, truncate, ftruncate,
// fallocate, and close. A file's stable name is its path under the run's
// folder written as $PAIN_RUN_DIR/path, the same in every run; a
// descriptor keeps the name it was opened at, whatever is renamed later.
// Files elsewhere (libraries, /etc, /proc) get no rows; the metadata key
// pain.x.files names the folders whose files do. What the rows cannot
// show is said in a row and a warning (the metadata is written before
// the run): an O_DIRECT open, a shared
// writable mapping of a followed file (mmap, arg MAP_SHARED|PROT_WRITE),
// io_uring (io_uring_setup, arg io_uring). Files are followed under ptrace
// only, not by the eBPF recorder; they are no part of a schedule.
//
// # Integrity (version 2)
//
// Every message of the stream (schema, dictionary batch, record batch)
// carries a CRC-32C of its header and of its body in the Message's
// custom_metadata (key pain.crc; checksum.go says exactly what it covers).
// Readers check both before using the message: a flipped byte is an error
// wrapping ErrCorrupt that names the file and the batch, never rows that
// read differently, and a damaged length that runs a message past the
// end-of-stream marker is reported as corruption, not as a file cut short.
// Arrow readers that know nothing of pain ignore the key.
//
// # Compression
//
// Batches are zstd-compressed unless the writer is asked for none
// (WithCompression(Uncompressed), pain-trace -compress none): readers
// without a zstd codec, such as Arrow JS and duckdb-wasm, read those.
//
// A writer flushes a batch every BatchRows rows and whenever its tool asks
// (pain-trace does several times a second), and ends the stream with Arrow's
// end-of-stream marker. A trace without that marker was cut short (the
// tracer was killed, the disk filled): Reader returns every row of every
// complete batch, then an error wrapping ErrTruncated that says how many
// rows it read. Readers refuse a newer version with ErrNewerVersion and a
// message naming both versions.
//
// # Schedules, plans and results
//
// pain-track's schedules file is an Arrow stream of the same kind, with
// pain.kind "schedules"; its layout is documented at the top of
// schedules.go. Fault plans (pain-plan) and injection results (pain-inject)
// are JSON Lines with a "v" version field; plan.go documents them.
//
// # Text form
//
// Each row prints as one line: time in seconds with nine decimals, node,
// thread, #seq, syscall, then the other columns as key=value, left out when
// empty (see text.go). ParseText reads a line back exactly, so tests and
// people can write traces by hand; a header of "# key: value" lines holds
// the metadata. OpenTrace opens a trace in either form.
//
// # A leaf
//
// format imports no other package of this module, so every tool and
// package can use it. Errno names live here, in the one table zerrno.go
// that go generate makes from the Linux headers (internal/mkerrno; a test
// there keeps the two in step); the syntax of message class names, which
// plans hold, is here too (ParseClass; package msgclass makes them).
package format
