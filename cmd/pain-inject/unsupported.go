//go:build !(linux && amd64)

package main

import (
	"fmt"
	"os"
)

// pain-inject stops processes with ptrace and reads amd64 registers and system
// call numbers: elsewhere it only says so (exit 2, a tool error).
func main() {
	fmt.Fprintln(os.Stderr, "pain-inject: Linux on amd64 only")
	os.Exit(2)
}
