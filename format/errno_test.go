package format

import "testing"

// TestErrno: names and numbers are Linux's, aliases included, and the
// names round-trip.
func TestErrno(t *testing.T) {
	for name, want := range map[string]int{"ECONNRESET": 104, "EIO": 5, "ETIMEDOUT": 110, "EWOULDBLOCK": 11, "EAGAIN": 11,
		"ENOTSUP": 95, "EDEADLOCK": 35, "ERESTARTSYS": 512} {
		if e, ok := Errno(name); !ok || e != want {
			t.Errorf("Errno(%s) = %d, %v; want %d", name, e, ok, want)
		}
	}
	if _, ok := Errno("EBOGUS"); ok {
		t.Error("Errno(EBOGUS) is known")
	}
	for e, want := range map[int]string{111: "ECONNREFUSED", 11: "EAGAIN", 95: "EOPNOTSUPP", 9999: "E9999"} {
		if got := ErrnoName(e); got != want {
			t.Errorf("ErrnoName(%d) = %s, want %s", e, got, want)
		}
	}
	for e, n := range errnoNames {
		if back, _ := Errno(n); back != e {
			t.Errorf("Errno(ErrnoName(%d)) = %d", e, back)
		}
	}
}
