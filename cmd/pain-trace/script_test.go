package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/boxofpain/pain/internal/testenv"
	"github.com/boxofpain/pain/internal/tracee"
	"github.com/rogpeppe/go-internal/testscript"
)

// TestScript runs the command-line scenarios in testdata/script. The test
// binary is pain-trace (as TestMain makes it with PAIN_TRACE_TEST_AS) and
// the helper servers; each script gets a Procfile whose node primary is a
// real TCP echo server, $CLIENT a real client of it, and the damaged trace
// of package format's testdata as corrupt.arrows.
func TestScript(t *testing.T) {
	tracee.NeedPtrace(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	if err := os.Symlink(exe, filepath.Join(bin, "pain-trace")); err != nil {
		t.Fatal(err)
	}
	corrupt, err := os.ReadFile("../../format/testdata/corrupt/body.arrows")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
			env.Setenv("PATH", bin+string(os.PathListSeparator)+env.Getenv("PATH"))
			env.Setenv(envAs, "pain-trace")
			env.Setenv("CLIENT", fmt.Sprintf("env %s=tcpclient %s %s", envAs, exe, addr))
			procfile := fmt.Sprintf("primary: env %s=tcpserve %s %s\n", envAs, exe, addr)
			if err := os.WriteFile(filepath.Join(env.WorkDir, "Procfile"), []byte(procfile), 0o644); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(env.WorkDir, "corrupt.arrows"), corrupt, 0o644)
		},
	})
}
