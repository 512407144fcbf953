package format

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Version is the format version this package writes. Readers accept every
// version up to it and refuse newer ones by name. Version 3 added rows, no
// columns: a trace's file rows and teardown row, a schedules file's
// unsynced and syncs records; a tool of version 2 would misread them. A
// column added at the end, which a reader that does not know it skips
// whole (a schedules file's dur_ns), changes no version.
const Version = 3

// Schema metadata keys. Every pain file carries them, so a file found on disk
// years later says what it is, who wrote it and how to read it.
const (
	KeyFormat  = "pain.format" // format version, decimal
	KeyKind    = "pain.kind"   // what the file holds: "trace", "schedules", ...
	KeyTool    = "pain.tool"   // the tool and its version that wrote the file
	KeyRun     = "pain.run"    // run name
	KeyHost    = "pain.host"   // host name
	KeyKernel  = "pain.kernel" // kernel release
	KeyStart   = "pain.start"  // wall-clock start, RFC 3339 with nanoseconds
	KeyCommand = "pain.cmd."   // prefix: pain.cmd.<node> is that node's command line
	KeyPlan    = "pain.plan"   // in injected runs: the plan applied, as JSON
	KindTrace  = "trace"       // the KeyKind of a trace
	keyExtra   = "pain.x."     // prefix for tool-specific extras
)

// Sentinel errors, wrapped with the file name and details by the readers.
var (
	ErrNewerVersion = errors.New("newer format version")
	ErrNotPain      = errors.New("not a pain file")
	ErrWrongKind    = errors.New("wrong kind of pain file")
	ErrTruncated    = errors.New("file cut short")
	ErrCorrupt      = errors.New("corrupt file")
)

// Meta describes a whole file: what wrote it, for which run, on which host.
type Meta struct {
	Version  int
	Kind     string
	Tool     string
	Run      string
	Host     string
	Kernel   string
	Start    time.Time
	Plan     *Plan             // the fault plan of an injected run, nil otherwise
	Commands map[string]string // node name -> command line
	Extra    map[string]string // other pain.x.* keys, without the prefix
}

// pairs returns the metadata as sorted key/value slices, the form Arrow wants.
func (m Meta) pairs() (keys, values []string) {
	kv := map[string]string{
		KeyFormat: strconv.Itoa(Version),
		KeyKind:   m.Kind,
		KeyTool:   m.Tool,
		KeyRun:    m.Run,
		KeyHost:   m.Host,
		KeyKernel: m.Kernel,
	}
	if !m.Start.IsZero() {
		kv[KeyStart] = m.Start.UTC().Format(time.RFC3339Nano)
	}
	if m.Plan != nil {
		kv[KeyPlan] = m.Plan.json()
	}
	for n, c := range m.Commands {
		kv[KeyCommand+n] = c
	}
	for k, v := range m.Extra {
		kv[keyExtra+k] = v
	}
	for _, k := range slices.Sorted(maps.Keys(kv)) {
		keys = append(keys, k)
		values = append(values, kv[k])
	}
	return keys, values
}

// MetaPairs returns m as the sorted key/value pairs a pain file's schema
// holds, for other files that keep them (Parquet key-value metadata); its
// pain.format is m.Version, the version of the file m was read from.
func MetaPairs(m Meta) (keys, values []string) {
	keys, values = m.pairs()
	if m.Version > 0 {
		for i, k := range keys {
			if k == KeyFormat {
				values[i] = strconv.Itoa(m.Version)
			}
		}
	}
	return keys, values
}

// parseMeta reads metadata written by pairs. It checks the version and, when
// kind is not empty, the kind; errors wrap the sentinels above.
func parseMeta(keys, values []string, kind string) (Meta, error) {
	var m Meta
	seen := false
	for i, k := range keys {
		v := values[i]
		switch {
		case k == KeyFormat:
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return m, errorf(ErrCorrupt, "bad format version %q", v)
			}
			m.Version, seen = n, true
		case k == KeyKind:
			m.Kind = v
		case k == KeyTool:
			m.Tool = v
		case k == KeyRun:
			m.Run = v
		case k == KeyHost:
			m.Host = v
		case k == KeyKernel:
			m.Kernel = v
		case k == KeyPlan:
			p, err := decodePlan([]byte(v))
			if err != nil {
				return m, fmt.Errorf("%s: %w", KeyPlan, err)
			}
			m.Plan = p
		case k == KeyStart:
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return m, errorf(ErrCorrupt, "bad start time %q", v)
			}
			m.Start = t
		case strings.HasPrefix(k, KeyCommand):
			if m.Commands == nil {
				m.Commands = map[string]string{}
			}
			m.Commands[k[len(KeyCommand):]] = v
		case strings.HasPrefix(k, keyExtra):
			if m.Extra == nil {
				m.Extra = map[string]string{}
			}
			m.Extra[k[len(keyExtra):]] = v
		}
	}
	if !seen {
		return m, errorf(ErrNotPain, "not a pain file (no %s in its schema metadata)", KeyFormat)
	}
	if m.Version > Version {
		return m, errorf(ErrNewerVersion, "format version %d is newer than this tool (%d)", m.Version, Version)
	}
	if kind != "" && m.Kind != kind {
		return m, errorf(ErrWrongKind, "holds %s, not %s", orNone(m.Kind), kind)
	}
	return m, nil
}

// formatError reads as its message alone and matches its sentinel with errors.Is.
type formatError struct {
	sentinel error
	msg      string
}

func (e *formatError) Error() string { return e.msg }
func (e *formatError) Unwrap() error { return e.sentinel }

func errorf(sentinel error, format string, args ...any) error {
	return &formatError{sentinel, fmt.Sprintf(format, args...)}
}

func orNone(s string) string {
	if s == "" {
		return "nothing known"
	}
	return s
}
