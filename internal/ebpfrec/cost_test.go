//go:build linux && amd64

package ebpfrec

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/boxofpain/pain/internal/prereq"
)

// TestVerifierCost loads the programs with the verifier's statistics and
// counts the instructions it processed, the bulk of the recorder's fixed
// cost (every pain-trace -backend ebpf pays it): 25,969 for sys_exit
// before its helpers became global functions and the hash loop an
// open-coded iterator, 5,789 after.
func TestVerifierCost(t *testing.T) {
	if err := Available(); err != nil {
		prereq.Missing(t, "%v", err)
	}
	prereq.Root(t, "the eBPF recorder")
	spec, err := loadRecorder()
	if err != nil {
		t.Fatal(err)
	}
	coll, err := ebpf.NewCollectionWithOptions(spec, ebpf.CollectionOptions{Programs: ebpf.ProgramOptions{LogLevel: ebpf.LogLevelStats}})
	if err != nil {
		t.Fatal(err)
	}
	defer coll.Close()
	processed := regexp.MustCompile(`processed (\d+) insns`)
	total := 0
	for name, p := range coll.Programs {
		m := processed.FindStringSubmatch(p.VerifierLog)
		if m == nil {
			t.Fatalf("%s: no count in the verifier's log: %q", name, p.VerifierLog)
		}
		var n int
		fmt.Sscan(m[1], &n)
		t.Logf("%s: %d instructions processed", name, n)
		total += n
	}
	if total > 10000 {
		t.Errorf("the verifier processed %d instructions, want at most 10,000", total)
	}
}
