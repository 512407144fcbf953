//go:build !linux

package main

import "syscall"

// fdatasync is fsync where there is no fdatasync (Darwin): the example is a
// Linux program, this only lets it build elsewhere.
func fdatasync(fd int) error { return syscall.Fsync(fd) }
