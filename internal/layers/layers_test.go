package layers

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/boxofpain/pain"

// rules: the packages (directories from the module's root; "*" for every
// one but those in except) that may not import a path, or a path under a
// prefix ending in "/".
var rules = []struct {
	pkgs, except []string
	banned       []string
	why          string
}{
	{pkgs: []string{"format"}, banned: []string{module + "/"},
		why: "format is a leaf: any package may import it"},
	{pkgs: []string{"internal/inject"}, banned: []string{"syscall", "golang.org/x/sys/unix", module + "/internal/ptrace"},
		why: "the injector decides and the tracer acts: signals, registers and restarts go through tracer.Action"},
	{pkgs: []string{"*"}, except: []string{"internal/ptrace"}, banned: []string{"golang.org/x/sys/unix"},
		why: "only internal/ptrace talks to the kernel through x/sys/unix"},
	{pkgs: []string{"internal/hb", "internal/schedule", "internal/msgclass", "internal/plan", "internal/durable"},
		banned: []string{"os", "os/exec", "net", "syscall", "io/ioutil", module + "/internal/cli", module + "/internal/atomicfile"},
		why:    "the pure packages do no I/O"},
}

// TestImports checks every non-test Go file of the module against rules.
func TestImports(t *testing.T) {
	root := filepath.Join("..", "..")
	files := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		files++
		return check(t, filepath.ToSlash(filepath.Dir(rel)), path)
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 100 {
		t.Fatalf("only %d Go files under %s: not the module's root", files, root)
	}
}

func check(t *testing.T, pkg, path string) error {
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
	if err != nil {
		return err
	}
	for _, im := range f.Imports {
		p, _ := strconv.Unquote(im.Path.Value)
		for _, r := range rules {
			if applies(r.pkgs, r.except, pkg) && banned(r.banned, p) {
				t.Errorf("%s imports %s: %s", path, p, r.why)
			}
		}
	}
	return nil
}

func applies(pkgs, except []string, pkg string) bool {
	for _, e := range except {
		if pkg == e {
			return false
		}
	}
	for _, p := range pkgs {
		if p == "*" || p == pkg {
			return true
		}
	}
	return false
}

func banned(list []string, path string) bool {
	for _, b := range list {
		if path == b || strings.HasSuffix(b, "/") && strings.HasPrefix(path, b) {
			return true
		}
	}
	return false
}
