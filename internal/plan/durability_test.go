package plan

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/hb"
	"github.com/boxofpain/pain/internal/schedule"
)

// TestDurabilityFirst: a node that answers before it syncs its log gets,
// from the trace alone (through a schedules file written and read back),
// a power loss just after its answer as the first plan, said in words, then
// EIO on the sync of its log; the node that syncs first in the second
// request gets no power loss there.
func TestDurabilityFirst(t *testing.T) {
	_, rows, err := format.ReadTextFile(filepath.Join("..", "hb", "testdata", "wal.txt"))
	if err != nil {
		t.Fatal(err)
	}
	b := hb.NewBuilder(hb.Message)
	for i := range rows {
		b.Add(&rows[i])
	}
	set := schedule.New(hb.Message)
	if err := set.Add(b.Graph("run-1")); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := set.WriteFile(&buf, format.Meta{Version: format.Version, Tool: "test"}); err != nil {
		t.Fatal(err)
	}
	f, err := format.ReadSchedulesFrom(&buf, "s.arrows")
	if err != nil {
		t.Fatal(err)
	}
	var opt Options
	scheds, err := FromFile(f, nil, &opt)
	if err != nil {
		t.Fatal(err)
	}
	plans := Plans(scheds, opt)
	if len(plans) < 2 {
		t.Fatalf("%d plans", len(plans))
	}
	var words []string
	for _, p := range plans[:2] {
		words = append(words, p.String()+"\n  why: "+p.Why)
	}
	want := []string{
		plans[0].ID + ": power loss of node kv1 at the first call by kv1, restart after 1s after kv1/main#9 (write)\n" +
			"  why: power loss of kv1 just after kv1/main#9 (write on workload:main:s0>kv1:listen0, message \"workload>kv1:listen0 <- w1\" #1), which the acknowledgement workload/main#4 (read on workload:main:s0>kv1:listen0, message \"workload>kv1:listen0 <- w1\" #1) depends on; kv1 loses 1 write (10 bytes) to $PAIN_RUN_DIR/kv1/wal.log not yet synced (ordered mode, so posix too)",
		plans[1].ID + ": fail the first fdatasync by kv1 on $PAIN_RUN_DIR/kv1/wal.log with EIO after workload/main#4 (read)\n" +
			"  why: EIO on kv1's first fdatasync of $PAIN_RUN_DIR/kv1/wal.log after the acknowledgement workload/main#4 (read on workload:main:s0>kv1:listen0, message \"workload>kv1:listen0 <- w1\" #1), the file synced most (2 times in a run)",
	}
	if strings.Join(words, "\n") != strings.Join(want, "\n") {
		t.Errorf("first plans:\n%s\nwant\n%s", strings.Join(words, "\n"), strings.Join(want, "\n"))
	}
	for _, p := range plans {
		for _, fl := range p.Faults {
			if fl.Kind == format.FaultPowerloss && fl.After != nil && fl.After.Seq != 9 {
				t.Errorf("plan %s: a power loss after %s, where kv1 had synced", p.ID, fl.After)
			}
		}
	}
}
