package launch

import (
	"fmt"
	"strings"
	"testing"
)

// FuzzParseProcfile: a Procfile is read or refused with an error that
// says which line; the nodes read have valid, distinct, unreserved names
// and commands, and print back as a Procfile that reads the same.
func FuzzParseProcfile(f *testing.F) {
	f.Add("# two servers\nkv1: ./kvnode -port 7001\n\nkv2: ./kvnode -port 7002\n")
	f.Add("a: x\na: y\n")
	f.Add("workload: x\n")
	f.Add("bad name: x\n")
	f.Add("a:\n")
	f.Add("a: b: c\r\n")
	f.Fuzz(func(t *testing.T, s string) {
		nodes, err := ParseProcfile(strings.NewReader(s))
		if err != nil {
			if msg := err.Error(); !strings.HasPrefix(msg, "line ") && msg != "no nodes" && !strings.Contains(msg, "token too long") {
				t.Fatalf("error names no line: %v", err)
			}
			return
		}
		var b strings.Builder
		seen := map[string]bool{}
		for _, n := range nodes {
			if !nodeName.MatchString(n.Name) || seen[n.Name] || n.Name == "workload" || n.Name == "check" || n.Command == "" {
				t.Fatalf("bad node %+v from %q", n, s)
			}
			seen[n.Name] = true
			fmt.Fprintf(&b, "%s: %s\n", n.Name, n.Command)
		}
		again, err := ParseProcfile(strings.NewReader(b.String()))
		if err != nil || fmt.Sprint(again) != fmt.Sprint(nodes) {
			t.Fatalf("%q read as %+v, which prints as a Procfile that reads as %+v (%v)", s, nodes, again, err)
		}
	})
}
