package kvstore_test

import (
	"bufio"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// dump asks a backup for DUMP and returns its reply, END excluded.
func dump(t *testing.T, addr string, requests ...string) []string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	for _, req := range requests {
		if _, err := c.Write([]byte(req + "\n")); err != nil {
			t.Fatal(err)
		}
		if line, err := r.ReadString('\n'); err != nil || line != "OK\n" {
			t.Fatalf("%s: %q, %v", req, line, err)
		}
	}
	if _, err := c.Write([]byte("DUMP\n")); err != nil {
		t.Fatal(err)
	}
	var out []string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("DUMP: %v after %q", err, out)
		}
		if line = strings.TrimSuffix(line, "\n"); line == "END" {
			return out
		}
		out = append(out, line)
	}
}

// TestWALRecovers: a backup with -data acknowledges only what its log holds
// durably, and a backup killed and started again on the same folder has
// every acknowledged write and is still joined.
func TestWALRecovers(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "backup1")
	addr := freeAddr(t)
	n := startNode(t, "backup1", "-role", "backup", "-listen", addr, "-data", dir)
	if got := dump(t, addr, "HELLO", "PUT k1 v1", "PUT k2 v2"); strings.Join(got, ",") != "JOINED yes,k1 v1,k2 v2" {
		t.Fatalf("before the crash: %q", got)
	}
	n.kill(t)
	addr = freeAddr(t)
	n = startNode(t, "backup1", "-role", "backup", "-listen", addr, "-data", dir)
	if got := dump(t, addr); strings.Join(got, ",") != "JOINED yes,k1 v1,k2 v2" {
		t.Fatalf("after the restart: %q\n%s", got, n.log)
	}
}

// TestWALCutsTornRecord: a log whose last record was torn by a power loss
// (cut short, then zeros) is read up to its last whole record and cut
// there, so later appends follow whole records.
func TestWALCutsTornRecord(t *testing.T) {
	dir := t.TempDir()
	whole := "HELLO\nPUT k1 v1\n"
	if err := os.WriteFile(filepath.Join(dir, "wal.log"), []byte(whole+"PUT k2 v\x00\x00\x00\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	n := startNode(t, "backup1", "-role", "backup", "-listen", addr, "-data", dir)
	n.log.waitFor(t, "cut a torn record")
	if got := dump(t, addr, "PUT k3 v3"); strings.Join(got, ",") != "JOINED yes,k1 v1,k3 v3" {
		t.Fatalf("got %q", got)
	}
	b, err := os.ReadFile(filepath.Join(dir, "wal.log"))
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != whole+"PUT k3 v3\n" {
		t.Fatalf("log now %q", b)
	}
}
