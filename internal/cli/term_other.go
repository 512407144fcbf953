//go:build !linux

package cli

import "os"

// isTerminal, where the tools do not run systems (they only read files):
// a character device is taken for a terminal.
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
