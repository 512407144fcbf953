package format

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestLeaf: format imports no package of this module (its generator under
// internal/ is a separate program), so any package may import it.
func TestLeaf(t *testing.T) {
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
			if strings.HasPrefix(im.Path.Value, `"github.com/boxofpain/pain/`) {
				t.Errorf("%s imports %s: format must stay a leaf", f, im.Path.Value)
			}
		}
	}
}
