package main

import (
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"pain-report": main})
}

// TestScript runs the command-line scenarios in testdata/script on the real
// round of internal/report/testdata/round ($ROUND).
func TestScript(t *testing.T) {
	round, err := filepath.Abs("../../internal/report/testdata/round")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			env.Setenv("ROUND", round)
			return nil
		},
	})
}
