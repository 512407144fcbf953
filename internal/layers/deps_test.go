package layers

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// parquet is the import path prefix of the Parquet writer, a third of
// pain-trace's binary.
const parquet = "github.com/apache/arrow/go/v17/parquet"

// exporters are the commands that export to Parquet (pain-trace -r -as
// parquet, for traces and a round's other files); no other command may
// link the writer.
var exporters = map[string]bool{"pain-trace": true}

// TestParquetOnlyWhereExported: go list -deps of each command, for the
// platform the tools run on, has Parquet packages only in the exporters.
func TestParquetOnlyWhereExported(t *testing.T) {
	root := filepath.Join("..", "..")
	cmds, err := filepath.Glob(filepath.Join(root, "cmd", "*"))
	if err != nil || len(cmds) < 4 {
		t.Fatalf("commands under %s/cmd: %v %v", root, cmds, err)
	}
	for _, dir := range cmds {
		name := filepath.Base(dir)
		c := exec.Command("go", "list", "-deps", "./cmd/"+name)
		c.Dir = root
		c.Env = append(os.Environ(), "GOOS=linux", "GOARCH=amd64")
		out, err := c.Output()
		if err != nil {
			t.Fatalf("go list -deps ./cmd/%s: %v", name, err)
		}
		var pq []string
		for _, p := range strings.Fields(string(out)) {
			if p == parquet || strings.HasPrefix(p, parquet+"/") {
				pq = append(pq, p)
			}
		}
		switch {
		case exporters[name] && len(pq) == 0:
			t.Errorf("%s exports Parquet but links no %s package: is the list of exporters out of date?", name, parquet)
		case !exporters[name] && len(pq) > 0:
			t.Errorf("%s links the Parquet writer (%s), which only the exporters may: it grows the binary by megabytes", name, strings.Join(pq, ", "))
		}
	}
}
