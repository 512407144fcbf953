//go:build linux && amd64

package netcut

// The kernel half is cut.bpf.c; bpf2go compiles it (Debian's clang, target
// bpfel) and writes cut_x86_bpfel.go and .o, which are committed, so
// building pain-inject needs no clang. Regenerate with
// `go generate ./internal/netcut` after `apt-get install clang llvm libbpf-dev`.
//go:generate go run github.com/cilium/ebpf/cmd/bpf2go -cc clang -cflags "-O2 -g -Wall -I/usr/include/x86_64-linux-gnu" -target amd64 -type pair cut cut.bpf.c
