package sysent

import "testing"

func TestTable(t *testing.T) {
	seen := map[int]bool{}
	for _, e := range Table {
		if seen[e.Nr] {
			t.Errorf("%s: number %d listed twice", e.Name, e.Nr)
		}
		seen[e.Nr] = true
		if got := Name(e.Nr); got != e.Name {
			t.Errorf("nr %d: table says %q, kernel header says %q", e.Nr, e.Name, got)
		}
		if (e.Class == Send || e.Class == Recv) && e.Buf == BufNone {
			t.Errorf("%s: send/recv without a buffer layout", e.Name)
		}
	}
}

func TestNames(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{ErrnoName(111), "ECONNREFUSED"},
		{ErrnoName(11), "EAGAIN"},
		{ErrnoName(9999), "E9999"},
		{SignalName(9), "SIGKILL"},
		{SignalName(40), "SIG40"},
		{Name(44), "sendto"},
		{Lookup(45).Name, "recvfrom"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	if Lookup(39) != nil {
		t.Error("getpid should not be traced")
	}
}
