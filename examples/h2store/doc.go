// Package h2store is a small key-value server spoken to over HTTP/2 without
// TLS (h2c), with Go's own net/http on both sides: a target whose stream
// offsets move from run to run (HTTP/2 framing: SETTINGS, WINDOW_UPDATE
// and PING frames written by the runtime's goroutines when they please),
// so that faults must be pinned to message classes (package msgclass), not
// to byte offsets.
//
//	h2server -listen ADDR                  PUT /k/KEY stores the body, GET /k/KEY returns it
//	h2client -server ADDR -n N -acked FILE  the workload: PUT k1..kN, one request after the other on one connection
//	h2client -server ADDR -check -acked FILE  the check: every acknowledged key reads back
//
// Procfile runs the server; h2store_test.go traces it, plans and injects.
package h2store
