package main

import (
	"os"
	"strconv"
	"testing"

	"github.com/boxofpain/pain/format"
	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"pain-track": main,
	})
}

// TestScript runs the command-line scenarios in testdata/script.
func TestScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Cmds:                map[string]func(ts *testscript.TestScript, neg bool, args []string){"mktrace": mktrace},
	})
}

// mktrace IN.txt OUT.arrows [ROWS] writes a trace in text form as an Arrow
// trace; with ROWS, only the first ROWS rows, flushed but never closed, the
// way a killed tracer leaves its file.
func mktrace(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: mktrace IN.txt OUT.arrows [ROWS]")
	}
	in, err := os.Open(ts.MkAbs(args[0]))
	ts.Check(err)
	defer in.Close()
	m, evs, err := format.ReadText(in, args[0])
	ts.Check(err)
	out, err := os.Create(ts.MkAbs(args[1]))
	ts.Check(err)
	defer out.Close()
	w, err := format.NewWriter(out, m)
	ts.Check(err)
	cut := len(evs)
	if len(args) == 3 {
		cut, err = strconv.Atoi(args[2])
		ts.Check(err)
	}
	for i := range evs[:min(cut, len(evs))] {
		ts.Check(w.Write(&evs[i]))
	}
	if cut < len(evs) {
		ts.Check(w.Flush())
		return
	}
	ts.Check(w.Close())
}
