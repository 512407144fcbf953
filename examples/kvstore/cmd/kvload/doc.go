// Command kvload is the kvstore example's workload: it writes keys k1..kN (values v1..vN)
// one after the other through the primary and records every write the primary
// acknowledged, one "key value" line each, in the file given by -acked (truncated first).
//
// Usage:
//
//	kvload [-primary 127.0.0.1:7101] [-n 5] [-acked acked.txt] [-timeout 10s] [-interval 0] [-step]
//
// -step makes it wait for a line on stdin before each write but the first, so a test can
// act between two writes (stop a backup after k2, before k3) without racing them.
//
// A write that fails or gets no reply is not recorded and is not retried; after a broken
// connection the next write dials again. kvload exits 0 whatever the primary answered, and 2
// on a usage error or when it cannot write the file.
package main
