package main

import (
	"errors"
	"io"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// lines feeds readDump the lines of s, then io.EOF, as a connection would.
func lines(s string) func() (string, error) {
	ls := strings.SplitAfter(s, "\n")
	return func() (string, error) {
		if len(ls) == 0 || !strings.HasSuffix(ls[0], "\n") {
			return "", io.EOF
		}
		l := ls[0]
		ls = ls[1:]
		return strings.TrimSuffix(l, "\n"), nil
	}
}

func TestReadDump(t *testing.T) {
	tests := []struct {
		name, reply string
		want        map[string]string
		joined, ok  bool
	}{
		{"joined", "JOINED yes\nk1 v1\nk2 v2\nEND\n", map[string]string{"k1": "v1", "k2": "v2"}, true, true},
		{"empty restart", "JOINED no\nEND\n", map[string]string{}, false, true},
		{"cut short", "JOINED yes\nk1 v1\n", nil, false, false},
		{"no header", "k1 v1\nEND\n", nil, false, false},
		{"bad line", "JOINED yes\nk1\nEND\n", nil, false, false},
		{"nothing", "", nil, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, joined, err := readDump(lines(tt.reply))
			if (err == nil) != tt.ok || joined != tt.joined || !maps.Equal(got, tt.want) {
				t.Errorf("readDump = %v, %v, %v; want %v, %v, ok=%v", got, joined, err, tt.want, tt.joined, tt.ok)
			}
		})
	}
}

func FuzzReadDump(f *testing.F) {
	f.Add("JOINED yes\nk1 v1\nEND\n")
	f.Add("JOINED no\nEND\n")
	f.Add("JOINED yes\nk1 v1\n")
	f.Fuzz(func(t *testing.T, reply string) {
		data, _, err := readDump(lines(reply))
		if err == nil && !strings.Contains(reply, "\nEND\n") {
			t.Errorf("reply without END accepted: %q -> %v", reply, data)
		}
	})
}

func TestReadAcked(t *testing.T) {
	tests := []struct {
		name, file string
		want       []write
		ok         bool
	}{
		{"two", "k1 v1\nk2 v2\n", []write{{"k1", "v1"}, {"k2", "v2"}}, true},
		{"empty", "", nil, true},
		{"torn last line", "k1 v1\nk2 v", []write{{"k1", "v1"}}, true},
		{"malformed", "k1 v1\nk2\n", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "acked.txt")
			if err := os.WriteFile(path, []byte(tt.file), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := readAcked(path)
			if (err == nil) != tt.ok || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("readAcked = %v, %v; want %v, ok=%v", got, err, tt.want, tt.ok)
			}
		})
	}
	if _, err := readAcked(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}
