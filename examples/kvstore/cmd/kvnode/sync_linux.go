package main

import "syscall"

// fdatasync makes fd's data durable (fdatasync(2)): the call the WAL is
// traced and judged by.
func fdatasync(fd int) error { return syscall.Fdatasync(fd) }
