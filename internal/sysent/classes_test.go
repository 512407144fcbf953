package sysent

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestOneClass: every call the tracer records has exactly one entry, so one
// class, and the transfers among them a direction and a group.
func TestOneClass(t *testing.T) {
	entries := map[string]int{}
	for _, e := range Table {
		entries[e.Name]++
		if ByName(e.Name) != &Table[slicesIndex(e.Name)] {
			t.Errorf("ByName(%q) is not its table entry", e.Name)
		}
	}
	for _, e := range Table {
		if entries[e.Name] != 1 {
			t.Errorf("%s: %d entries", e.Name, entries[e.Name])
		}
		if e.Record && e.Class == None {
			t.Errorf("%s: recorded without a class", e.Name)
		}
		transfer := e.Class == Send || e.Class == Recv || e.Class == Transfer
		if dir := DirOf(e.Name, "out"); transfer != (dir != NoDir) {
			t.Errorf("%s: class %d, direction %d", e.Name, e.Class, dir)
		}
		if transfer && e.LenArg() < 0 && e.Buf != BufMsg {
			t.Errorf("%s: a transfer with no length argument", e.Name)
		}
	}
}

func slicesIndex(name string) int {
	for i := range Table {
		if Table[i].Name == name {
			return i
		}
	}
	return -1
}

func TestDirections(t *testing.T) {
	for _, tc := range []struct {
		call, arg string
		dir       Dir
		group     string
	}{
		{"write", "", Out, "send"},
		{"sendmmsg", "", Out, "send"},
		{"read", "", In, "recv"},
		{"recvmsg", "", In, "recv"},
		{"splice", "out", Out, "send"},
		{"splice", "in", In, "recv"},
		{"sendfile", "out", Out, "send"},
		{"sendfile", "in", In, "recv"},
		{"accept4", "", NoDir, "accept"},
		{"accept", "kv1:listen0", NoDir, "accept"},
		{"connect", "", NoDir, "connect"},
		{"send", "", Out, "send"}, // a class graph's transfers
		{"recv", "", In, "recv"},
		{"pwrite64", "", Out, "send"}, // a file's
		{"fsync", "", NoDir, "fsync"},
		{"start", "/bin/sh", NoDir, "start"},
	} {
		if got := DirOf(tc.call, tc.arg); got != tc.dir {
			t.Errorf("DirOf(%s, %q) = %d, want %d", tc.call, tc.arg, got, tc.dir)
		}
		if got := Group(tc.call, tc.arg); got != tc.group {
			t.Errorf("Group(%s, %q) = %s, want %s", tc.call, tc.arg, got, tc.group)
		}
	}
}

// TestNoOtherLists: the packages that classify calls (hb, msgclass,
// inject, plan) import sysent and keep no list of system call names of
// their own: no switch case, composite literal or call naming two or more
// system calls. A single name in a comparison (sys == "connect") is no list,
// and hb's names of edge kinds (clone, exit, connect, pipe, close) are no
// system calls.
func TestNoOtherLists(t *testing.T) {
	known := map[string]bool{}
	for _, n := range names {
		known[n] = true
	}
	for _, dir := range []string{"hb", "msgclass", "inject", "plan"} {
		files, err := filepath.Glob(filepath.Join("..", dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no Go files (%v)", dir, err)
		}
		imports := false
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			file, err := parser.ParseFile(token.NewFileSet(), f, src, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, im := range file.Imports {
				imports = imports || strings.HasSuffix(im.Path.Value, `/internal/sysent"`)
			}
			ast.Inspect(file, func(n ast.Node) bool {
				var list []ast.Expr
				switch n := n.(type) {
				case *ast.ValueSpec:
					return !(len(n.Names) == 1 && n.Names[0].Name == "kindNames")
				case *ast.CaseClause:
					list = n.List
				case *ast.CompositeLit:
					list = n.Elts
				case *ast.CallExpr:
					list = n.Args
				default:
					return true
				}
				var found []string
				for _, x := range list {
					if kv, ok := x.(*ast.KeyValueExpr); ok {
						x = kv.Value
					}
					if lit, ok := x.(*ast.BasicLit); ok && lit.Kind == token.STRING {
						if s, err := strconv.Unquote(lit.Value); err == nil && known[s] {
							found = append(found, s)
						}
					}
				}
				if len(found) >= 2 {
					t.Errorf("%s: a list of system calls %v: classify through package sysent", f, found)
				}
				return true
			})
		}
		if !imports {
			t.Errorf("%s does not classify through package sysent", dir)
		}
	}
}
