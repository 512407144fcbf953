//go:build linux && amd64

package ebpfrec

// The kernel half is recorder.bpf.c; bpf2go compiles it (Debian's clang,
// target bpfel) and writes recorder_x86_bpfel.go and .o, which are
// committed, so building pain-trace needs no clang. vmlinux.h (the
// kernel's types, for CO-RE) is made from the running kernel's BTF and not
// committed. Regenerate with `go generate ./internal/ebpfrec` after
// `apt-get install clang llvm libbpf-dev bpftool`.
//go:generate sh -c "bpftool btf dump file /sys/kernel/btf/vmlinux format c > vmlinux.h"
//go:generate go run github.com/cilium/ebpf/cmd/bpf2go -cc clang -cflags "-O2 -g -Wall" -target amd64 -type head -type event recorder recorder.bpf.c
