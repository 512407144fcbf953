// Command funclen lists the functions longer than -max lines (80 by
// default) in the Go files under the given folders, tests and generated
// files left out, longest first: the check behind "no function over 80
// lines" (go run ./scripts/funclen; the folder defaults to .).
package main

import (
	"cmp"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

type long struct {
	where string
	lines int
}

func main() {
	limit := flag.Int("max", 80, "longest function allowed, in lines")
	flag.Parse()
	roots := flag.Args()
	if len(roots) == 0 {
		roots = []string{"."} // with no folder it would check nothing and pass
	}
	var found []long
	for _, root := range roots {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			fl, err := longFuncs(path, *limit)
			found = append(found, fl...)
			return err
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, "funclen:", err)
			os.Exit(2)
		}
	}
	slices.SortFunc(found, func(a, b long) int { return cmp.Or(b.lines-a.lines, strings.Compare(a.where, b.where)) })
	for _, l := range found {
		fmt.Printf("%4d %s\n", l.lines, l.where)
	}
	if len(found) > 0 {
		os.Exit(1)
	}
}

// longFuncs returns the functions of file path longer than limit lines.
func longFuncs(path string, limit int) ([]long, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	if ast.IsGenerated(f) {
		return nil, nil
	}
	var out []long
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Body == nil {
			continue
		}
		n := fset.Position(fn.End()).Line - fset.Position(fn.Pos()).Line + 1
		if n > limit {
			name := fn.Name.Name
			if fn.Recv != nil && len(fn.Recv.List) > 0 {
				name = "(" + types(fn.Recv.List[0].Type) + ")." + name
			}
			out = append(out, long{fmt.Sprintf("%s:%d %s", path, fset.Position(fn.Pos()).Line, name), n})
		}
	}
	return out, nil
}

// types prints a receiver type: T, *T, T[K].
func types(x ast.Expr) string {
	switch x := x.(type) {
	case *ast.StarExpr:
		return "*" + types(x.X)
	case *ast.Ident:
		return x.Name
	case *ast.IndexExpr:
		return types(x.X)
	}
	return "?"
}
