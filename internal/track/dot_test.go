package track

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/hb"
)

// TestDotDisk: the diagram marks where a node's disk changes state, what it
// had not made durable there (what a power loss just after would take), and
// the node's syncs.
func TestDotDisk(t *testing.T) {
	_, rows, err := format.ReadTextFile(filepath.Join("..", "hb", "testdata", "wal.txt"))
	if err != nil {
		t.Fatal(err)
	}
	b := hb.NewBuilder(hb.Message)
	for i := range rows {
		b.Add(&rows[i])
	}
	var out strings.Builder
	if err := dot(&out, b.Graph("run-1"), "wal"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		// the answer to the first PUT, sent before the fdatasync
		`write 3B\nworkload:main:s0>kv1:listen0\nnot durable: 1 writes (10B) to $PAIN_RUN_DIR/kv1/wal.log", color="#d97a00"`,
		// the next event: the sync came in between
		`read 10B\nworkload:main:s0>kv1:listen0\nall writes durable", color="#d97a00"`,
		// kv1's cluster lists its syncs
		`label="kv1\nfdatasync $PAIN_RUN_DIR/kv1/wal.log x2\nfsync $PAIN_RUN_DIR/kv1/wal.log x1"`,
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %s in\n%s", want, out.String())
		}
	}
}
