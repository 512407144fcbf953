package filter

import (
	"errors"
	"testing"

	"github.com/boxofpain/pain/format"
)

func TestKeep(t *testing.T) {
	rows := []format.Event{
		{Node: "primary", Syscall: "accept4", FD: 4, Conn: "workload:main:s0>primary:listen0"},
		{Node: "primary", Syscall: "read", FD: 5, Conn: "workload:main:s0>primary:listen0"},
		{Node: "primary", Syscall: "sendto", FD: 5, Conn: "primary:main:s1>backup:listen0"},
		{Node: "backup", Syscall: "recvfrom", FD: 5, Conn: "primary:main:s1>backup:listen0"},
		{Node: "backup", Syscall: "exited", FD: -1},
		{Node: "sh/cat.2", Syscall: "execve", FD: -1},
		{Node: "backup", Syscall: "pwrite64", FD: 6, FDKind: format.KindFile, Local: "$PAIN_RUN_DIR/wal"},
		{Node: "backup", Syscall: "rename", FD: -1, FDKind: format.KindFile, Local: "$PAIN_RUN_DIR/a.tmp"},
	}
	for _, c := range []struct {
		o    Options
		want string // one letter per row: y kept, n not
	}{
		{Options{}, "yyyyyyyy"},
		{Options{Expr: "trace=network"}, "ynyynnnn"},
		{Options{Expr: "trace=%net,read"}, "yyyynnnn"},
		{Options{Expr: "network", Nodes: "primary"}, "ynynnnnn"},
		{Options{Expr: "trace=!network"}, "nynnyyyy"},
		{Options{Expr: "trace=process"}, "nnnnyynn"},
		{Options{Expr: "trace=desc"}, "yyyynnyn"},
		{Options{Expr: "trace=file"}, "nnnnnnyy"},
		{Options{Expr: "trace=file", Nodes: "primary"}, "nnnnnnnn"},
		{Options{Expr: "trace=read,recvfrom"}, "nynynnnn"},
		{Options{Nodes: "b*,sh/*"}, "nnnyyyyy"},
		{Options{Conns: "primary:*"}, "nnyynnnn"},
		{Options{Conns: "workload:main:s0>primary:listen0", Expr: "read"}, "nynnnnnn"},
	} {
		f, err := New(c.o)
		if err != nil {
			t.Fatalf("%+v: %v", c.o, err)
		}
		got := ""
		for i := range rows {
			if f.Keep(&rows[i]) {
				got += "y"
			} else {
				got += "n"
			}
		}
		if got != c.want {
			t.Errorf("%+v: kept %s, want %s", c.o, got, c.want)
		}
	}
}

func TestBad(t *testing.T) {
	for _, o := range []Options{
		{Expr: "read=all"},
		{Expr: "trace=net,,read"},
		{Expr: "trace=Read!"},
		{Nodes: "["},
		{Conns: "a,"},
	} {
		if _, err := New(o); !errors.Is(err, ErrBadExpr) {
			t.Errorf("%+v: err = %v, want ErrBadExpr", o, err)
		}
	}
}
