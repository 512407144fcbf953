package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
)

// follower keeps the writes its leader sends.
type follower struct {
	mu     sync.Mutex
	values map[string]string
}

func newFollower() *follower { return &follower{values: map[string]string{}} }

func (f *follower) handle(line string, w io.Writer) error {
	var out string
	switch cmd := strings.Fields(line); {
	case len(cmd) == 3 && cmd[0] == "PUT":
		f.mu.Lock()
		f.values[cmd[1]] = cmd[2]
		f.mu.Unlock()
		out = "OK\n"
	case len(cmd) == 1 && cmd[0] == "PING":
		out = "PONG\n"
	case len(cmd) == 1 && cmd[0] == "DUMP":
		var b strings.Builder
		f.mu.Lock()
		for _, k := range slices.Sorted(maps.Keys(f.values)) {
			fmt.Fprintf(&b, "%s %s\n", k, f.values[k])
		}
		f.mu.Unlock()
		out = b.String() + "END\n"
	default:
		out = "ERR bad request\n"
	}
	_, err := io.WriteString(w, out)
	return err
}
