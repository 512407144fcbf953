package main

import (
	"strings"
	"testing"
)

func TestDescribe(t *testing.T) {
	tests := []struct{ in, want string }{
		{"*3\r\n$3\r\nSET\r\n$5\r\nk0001\r\n$5\r\nv0001\r\n", "SET k0001 v0001"},
		{"+OK\r\n", "+OK"},
		{"-READONLY You can't write\r\n", "-READONLY You can't write"},
		{":2\r\n", ":2"},
		{"*2\r\n$9\r\n127.0.0.1\r\n$4\r\n7381\r\n", "127.0.0.1 7381"},
		{"*1\r\n$5\r\nMULTI\r\n*3\r\n$7\r\nSLAVEOF\r\n$2\r\nNO\r\n$3\r\nONE\r\n*1\r\n$4\r\nEXEC\r\n", "MULTI + SLAVEOF NO ONE + EXEC"},
		{"*3\r\n$4\r\nMGET\r\n$5\r\nk0001\r\n$5\r\nk00", "MGET k0001 k00"},
		{"*3\r\n$5\r\nv0001\r\n$-1\r\n$-1\r\n", "v0001 nil nil"},
		{"$4952\r\n# Server\r\nredis_version:7.0.15", "INFO-reply"},
		{"$EOF:0123456789\r\nREDIS0010", "RDB snapshot (300 bytes)"},
		{"+FULLRESYNC 9dd5 0\r\n", "FULLRESYNC 9dd5 0"},
		{"", "300 bytes"},
	}
	for _, tt := range tests {
		if got := describe([]byte(tt.in), 300); got != tt.want {
			t.Errorf("describe(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFold(t *testing.T) {
	var items []item
	add := func(from, to, label string) { items = append(items, item{from: from, to: to, label: label, calls: 1}) }
	add("workload", "sentinel1", "SENTINEL get-master-addr-by-name mymaster")
	for _, k := range []string{"k0001", "k0002", "k0003"} {
		add("workload", "primary", "SET "+k)
		add("primary", "replica1", "SET "+k)
		add("primary", "workload", "+OK")
	}
	items = append(items, item{from: "primary", label: "fault p1:delay"})
	add("primary", "workload", "+OK")
	var got []string
	for _, it := range fold(items) {
		s := it.label
		if it.reps > 1 {
			s = it.first + " … " + it.label
		}
		got = append(got, s)
	}
	want := "SENTINEL get-master-addr-by-name mymaster|SET k0001 … SET k0003|SET k0001 … SET k0003|+OK … +OK|fault p1:delay|+OK"
	if strings.Join(got, "|") != want {
		t.Errorf("fold:\n got %s\nwant %s", strings.Join(got, "|"), want)
	}
}

func TestIsReply(t *testing.T) {
	for label, want := range map[string]bool{"+OK": true, "127.0.0.1 7381": true, "0 * 0": true, "v0001 nil": true, "SET k0001": false, "SENTINEL master": false, "CONTINUE abc": false} {
		if got := isReply(label); got != want {
			t.Errorf("isReply(%q) = %v", label, got)
		}
	}
}
