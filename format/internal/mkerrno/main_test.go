package main

import (
	"bytes"
	"os"
	"testing"

	"github.com/boxofpain/pain/internal/prereq"
)

// TestTableIsGenerated: format/zerrno.go is what the generator makes of
// the headers (run go generate ./format after changing either).
func TestTableIsGenerated(t *testing.T) {
	const dir = "/usr/include/asm-generic"
	if _, err := os.Stat(dir + "/errno.h"); err != nil {
		prereq.Missing(t, "the Linux uapi headers (linux-libc-dev): %v", err)
	}
	want, err := generate(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../zerrno.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("format/zerrno.go is not the generator's output: run go generate ./format")
	}
}
