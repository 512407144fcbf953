package cli

import (
	"errors"
	"flag"
	"fmt"
	"strings"
	"testing"
)

func TestStatus(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
		said   string
	}{
		{nil, 0, ""},
		{ExitStatus(1), 1, ""},
		{fmt.Errorf("check: %w", ExitStatus(3)), 3, ""},
		{flag.ErrHelp, 2, ""},
		{errors.New("run-7.arrows: format version 3 is newer than this tool (1)"), 2, "pain-track: run-7.arrows: format version 3 is newer than this tool (1)\n"},
	} {
		var stderr strings.Builder
		if got := Status("pain-track", tc.err, &stderr); got != tc.status || stderr.String() != tc.said {
			t.Errorf("Status(%v) = %d and %q, want %d and %q", tc.err, got, stderr.String(), tc.status, tc.said)
		}
	}
}
