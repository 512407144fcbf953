package inject

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/boxofpain/pain/format"
)

// TestDiskFaults: errno faults and short writes on file calls, targeted by
// stable file name and ordinal, and corrupt, on tn disk: what the program
// sees, the marked row, and the bytes left in the file.
func TestDiskFaults(t *testing.T) {
	const log = "$D/d/log"
	for _, tc := range []struct {
		name  string
		fault format.Fault
		out   string // what tn printed
		errno string // the marked row's
		ret   int64
		log   string // d/log's contents after the run
		note  string
	}{
		{"EIO on fdatasync", format.Fault{Kind: format.FaultErrno, Errno: "EIO", Target: format.Target{Node: "w", Syscall: "fdatasync", File: log}},
			"fdatasync log: Input/output error\ndone\n", "EIO", -1, "aaaabbbbbbbbbbbb", ""},
		{"ENOSPC on the 2nd write", format.Fault{Kind: format.FaultErrno, Errno: "ENOSPC", Target: format.Target{Node: "w", Syscall: "write", File: log, Nth: 2}},
			"write log 2: No space left on device\ndone\n", "ENOSPC", -1, "aaaa", ""},
		{"short 2nd write", format.Fault{Kind: format.FaultShort, Target: format.Target{Node: "w", Syscall: "write", File: log, Nth: 2}},
			"write log 2: short 6 of 12\ndone\n", "", 6, "aaaabbbbbb", ""},
		// At the pread only "aaaa" is durable: the flip lands in it.
		{"corrupt", format.Fault{Kind: format.FaultCorrupt, Target: format.Target{Node: "w", Syscall: "pread64", File: log}},
			"", "EINTR", -1, "aa\x9eabbbbbbbbbbbb", "corrupt flipped the byte at offset 2 of $D/d/log (durable bytes [0,4)): 0x61 -> 0x9e"},
	} {
		p := &format.Plan{V: format.PlanVersionDisk, ID: "p1", Faults: []format.Fault{tc.fault}, Why: "test"}
		want := ""
		if tc.note != "" {
			want = "corrupt flipped"
		}
		dir, rows, out, in := diskRun(t, p, want)
		if out != tc.out {
			t.Errorf("%s: tn printed %q, want %q", tc.name, out, tc.out)
		}
		m := marked(rows)
		if len(m) != 1 || m[0].Local != log || m[0].Syscall != tc.fault.Target.Syscall || m[0].Errno != tc.errno || m[0].Ret != tc.ret {
			dump(t, rows)
			t.Errorf("%s: marked rows %+v, want one %s of %s with ret %d errno %q", tc.name, m, tc.fault.Target.Syscall, log, tc.ret, tc.errno)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, "d/log")); string(b) != tc.log {
			t.Errorf("%s: d/log holds %q, want %q", tc.name, b, tc.log)
		}
		if tc.note != "" && !slices.Contains(in.Notes(), tc.note) {
			t.Errorf("%s: notes %q, want %q", tc.name, in.Notes(), tc.note)
		}
	}
}
