package inject

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestDecisionsOnly: the injector decides and the tracer acts, so no file
// of the package (tests aside) imports internal/ptrace or syscall; it
// signals, writes registers and restarts nodes through tracer.Action.
func TestDecisionsOnly(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files (%v)", err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, im := range file.Imports {
			p, _ := strconv.Unquote(im.Path.Value)
			if p == "syscall" || strings.HasSuffix(p, "/internal/ptrace") || p == "golang.org/x/sys/unix" {
				t.Errorf("%s imports %s: act through tracer.Action instead", f, p)
			}
		}
	}
}
