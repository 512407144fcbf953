package format

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The text form of a trace: a header of "# key: value" lines, then one line
// per row:
//
//	0.000215300 kv1 main #3 write pid=41 tid=41 fd=5 kind=tcp local=kv1:listen0 ... ret=12 hash=9a3c...
//
// time in seconds, node, thread, #seq and syscall come first; the other
// columns follow as key=value and are left out when they hold their empty
// value (fd and off -1, strings empty, numbers 0; ret is always shown).
// A payload prints as data="text" (Go-quoted, like strace's escapes) when
// it is text, as payload=hex otherwise; dur is dur_ns.
// Values with spaces, quotes, '=' or nothing in them are Go-quoted. The text
// form holds every column, so ParseText(AppendText(e)) == e: golden tests
// and hand-written traces use it.

// textField is a key=value column of the text form, as data.
type textField struct {
	key   string
	show  func(e *Event) (string, bool)
	parse func(e *Event, v string) error
}

func textStr(key string, f func(*Event) *string) textField {
	return textField{key,
		func(e *Event) (string, bool) { return *f(e), *f(e) != "" },
		func(e *Event, v string) error { *f(e) = v; return nil }}
}

func textInt[T int32 | int64](key string, none T, always bool, f func(*Event) *T) textField {
	return textField{key,
		func(e *Event) (string, bool) { return strconv.FormatInt(int64(*f(e)), 10), always || *f(e) != none },
		func(e *Event, v string) error {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || int64(T(n)) != n {
				return fmt.Errorf("bad %s %q", key, v)
			}
			*f(e) = T(n)
			return nil
		}}
}

var textFields = []textField{
	textInt("pid", 0, false, func(e *Event) *int32 { return &e.PID }),
	textInt("tid", 0, false, func(e *Event) *int32 { return &e.TID }),
	textInt("fd", -1, false, func(e *Event) *int32 { return &e.FD }),
	textStr("kind", func(e *Event) *string { return &e.FDKind }),
	textStr("local", func(e *Event) *string { return &e.Local }),
	textStr("peer", func(e *Event) *string { return &e.Peer }),
	textStr("laddr", func(e *Event) *string { return &e.LocalAddr }),
	textStr("paddr", func(e *Event) *string { return &e.PeerAddr }),
	textStr("conn", func(e *Event) *string { return &e.Conn }),
	textInt("off", -1, false, func(e *Event) *int64 { return &e.Offset }),
	textInt("ret", 0, true, func(e *Event) *int64 { return &e.Ret }),
	textStr("errno", func(e *Event) *string { return &e.Errno }),
	{"hash",
		func(e *Event) (string, bool) { return fmt.Sprintf("%016x", e.PayloadHash), e.PayloadHash != 0 },
		func(e *Event, v string) error {
			n, err := strconv.ParseUint(v, 16, 64)
			if err != nil {
				return fmt.Errorf("bad hash %q", v)
			}
			e.PayloadHash = n
			return nil
		}},
	{"data", // the payload as text, when it is text (strace style)
		func(e *Event) (string, bool) { return string(e.Payload), printable(e.Payload) },
		func(e *Event, v string) error { e.Payload = []byte(v); return nil }},
	{"payload", // the payload in hex, when it is not text
		func(e *Event) (string, bool) {
			return hex.EncodeToString(e.Payload), e.Payload != nil && !printable(e.Payload)
		},
		func(e *Event, v string) error {
			b, err := hex.DecodeString(v)
			if err != nil {
				return fmt.Errorf("bad payload %q", v)
			}
			e.Payload = b
			return nil
		}},
	textStr("arg", func(e *Event) *string { return &e.Arg }),
	textStr("fault", func(e *Event) *string { return &e.Fault }),
	textInt("dur", 0, false, func(e *Event) *int64 { return &e.DurNS }),
}

// printable says whether a payload prints as text: valid UTF-8, nothing
// but graphic characters, spaces, tabs and line ends, and not empty.
func printable(b []byte) bool {
	if len(b) == 0 || !utf8.Valid(b) {
		return false
	}
	for _, r := range string(b) {
		if !unicode.IsGraphic(r) && r != '\n' && r != '\r' && r != '\t' {
			return false
		}
	}
	return true
}

// AppendText appends the text form of e, without a newline.
func AppendText(b []byte, e *Event) []byte {
	b = appendTime(b, e.TimeNS)
	for _, s := range []string{e.Node, e.Thread} {
		b = append(b, ' ')
		b = appendValue(b, s)
	}
	b = append(b, " #"...)
	b = strconv.AppendInt(b, e.Seq, 10)
	b = append(b, ' ')
	b = appendValue(b, e.Syscall)
	for _, f := range textFields {
		if v, ok := f.show(e); ok {
			b = append(b, ' ')
			b = append(b, f.key...)
			b = append(b, '=')
			b = appendValue(b, v)
		}
	}
	return b
}

// WriteText writes the text form of e as one line.
func WriteText(w io.Writer, e *Event) error {
	_, err := w.Write(append(AppendText(nil, e), '\n'))
	return err
}

func appendTime(b []byte, ns int64) []byte {
	if ns < 0 {
		b = append(b, '-')
		ns = -ns
	}
	b = strconv.AppendInt(b, ns/1e9, 10)
	frac := strconv.FormatInt(ns%1e9+1e9, 10) // leading 1 keeps the zeros
	return append(append(b, '.'), frac[1:]...)
}

func needsQuote(s string) bool {
	return s == "" || strings.ContainsAny(s, " =\"\\#") || strconv.Quote(s) != `"`+s+`"`
}

func appendValue(b []byte, s string) []byte {
	if needsQuote(s) {
		return strconv.AppendQuote(b, s)
	}
	return append(b, s...)
}

// ParseText parses one line of the text form.
func ParseText(line string) (Event, error) {
	e := Event{FD: -1, Offset: -1}
	toks, err := splitText(line)
	if err != nil {
		return e, err
	}
	if len(toks) < 5 {
		return e, fmt.Errorf("want time, node, thread, #seq and syscall, got %d fields", len(toks))
	}
	if e.TimeNS, err = parseTime(toks[0]); err != nil {
		return e, err
	}
	e.Node, e.Thread, e.Syscall = toks[1], toks[2], toks[4]
	seq, ok := strings.CutPrefix(toks[3], "#")
	if e.Seq, err = strconv.ParseInt(seq, 10, 64); !ok || err != nil {
		return e, fmt.Errorf("bad sequence number %q", toks[3])
	}
	next := 0 // fields come in textFields order, each at most once
	for _, t := range toks[5:] {
		k, v, ok := strings.Cut(t, "=")
		if !ok {
			return e, fmt.Errorf("want key=value, got %q", t)
		}
		i := slices.IndexFunc(textFields[next:], func(f textField) bool { return f.key == k })
		if i < 0 {
			return e, fmt.Errorf("unknown or out-of-order field %q", k)
		}
		next += i
		if v, err = unquote(v); err != nil {
			return e, fmt.Errorf("field %s: %v", k, err)
		}
		if err := textFields[next].parse(&e, v); err != nil {
			return e, err
		}
		next++
	}
	return e, nil
}

// splitText splits on spaces, keeping quoted strings whole; a quoted token
// keeps its quotes (and a key="value" its key) for the caller to unquote.
func splitText(line string) ([]string, error) {
	var toks []string
	for line != "" {
		if line[0] == ' ' {
			line = line[1:]
			continue
		}
		i := 0
		for i < len(line) && line[i] != ' ' {
			if line[i] == '"' {
				q, err := strconv.QuotedPrefix(line[i:])
				if err != nil {
					return nil, fmt.Errorf("bad quoted string at %q", line[i:])
				}
				i += len(q)
				continue
			}
			i++
		}
		tok, err := unquoteHead(line[:i])
		if err != nil {
			return nil, err
		}
		toks = append(toks, tok)
		line = line[i:]
	}
	return toks, nil
}

// unquoteHead unquotes a token that is entirely one quoted string, leaving
// key="value" tokens for unquote.
func unquoteHead(t string) (string, error) {
	if strings.HasPrefix(t, `"`) {
		return strconv.Unquote(t)
	}
	return t, nil
}

func unquote(v string) (string, error) {
	if strings.HasPrefix(v, `"`) {
		return strconv.Unquote(v)
	}
	return v, nil
}

func parseTime(s string) (int64, error) {
	neg := strings.HasPrefix(s, "-")
	sec, frac, ok := strings.Cut(strings.TrimPrefix(s, "-"), ".")
	if !ok || len(frac) != 9 {
		return 0, fmt.Errorf("bad time %q: want seconds with 9 decimals", s)
	}
	a, err1 := strconv.ParseInt(sec, 10, 64)
	b, err2 := strconv.ParseInt(frac, 10, 64)
	if err1 != nil || err2 != nil || sec[0] == '+' || frac[0] == '+' || frac[0] == '-' || a > (1<<63-1-b)/1e9 {
		return 0, fmt.Errorf("bad time %q", s)
	}
	ns := a*1e9 + b
	if neg {
		ns = -ns
	}
	return ns, nil
}

// WriteTextHeader writes a trace's metadata as "# key: value" lines.
func WriteTextHeader(w io.Writer, m Meta) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# pain %s v%d\n", orKind(m.Kind), m.Version)
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "# %s: %s\n", k, strconv.Quote(v))
		}
	}
	line("run", m.Run)
	line("tool", m.Tool)
	line("host", m.Host)
	line("kernel", m.Kernel)
	if !m.Start.IsZero() {
		line("start", m.Start.UTC().Format(time.RFC3339Nano))
	}
	for _, n := range slices.Sorted(maps.Keys(m.Commands)) {
		line("cmd "+n, m.Commands[n])
	}
	if m.Plan != nil {
		line("plan", m.Plan.json())
	}
	for _, k := range slices.Sorted(maps.Keys(m.Extra)) {
		line("x "+k, m.Extra[k])
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func orKind(k string) string {
	if k == "" {
		return KindTrace
	}
	return k
}

// ReadTextFile reads the trace in text form at path, as ReadFile reads an
// Arrow trace: for tests and hand-written traces.
func ReadTextFile(path string) (Meta, []Event, error) {
	f, err := os.Open(path)
	if err != nil {
		return Meta{}, nil, err
	}
	defer f.Close()
	return ReadText(f, path)
}

// ReadText reads a trace in text form: header lines, then rows. Blank lines
// and other comments are skipped. name is used in errors.
func ReadText(r io.Reader, name string) (Meta, []Event, error) {
	m := Meta{Version: Version, Kind: KindTrace}
	var evs []Event
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if c, ok := strings.CutPrefix(line, "#"); ok {
			if err := parseHeader(&m, strings.TrimSpace(c)); err != nil {
				return m, nil, fmt.Errorf("%s:%d: %v", name, n, err)
			}
			continue
		}
		e, err := ParseText(line)
		if err != nil {
			return m, nil, fmt.Errorf("%s:%d: %v", name, n, err)
		}
		evs = append(evs, e)
	}
	if err := sc.Err(); err != nil {
		return m, nil, fmt.Errorf("%s: %v", name, err)
	}
	return m, evs, nil
}

func parseHeader(m *Meta, c string) error {
	if rest, ok := strings.CutPrefix(c, "pain "); ok {
		kind, v, _ := strings.Cut(rest, " v")
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("bad header %q", c)
		}
		if n > Version {
			return errorf(ErrNewerVersion, "format version %d is newer than this tool (%d)", n, Version)
		}
		m.Kind, m.Version = kind, n
		return nil
	}
	k, qv, ok := strings.Cut(c, ": ")
	if !ok || !strings.HasPrefix(qv, `"`) {
		return nil // a plain comment
	}
	v, err := strconv.Unquote(qv)
	if err != nil {
		return fmt.Errorf("bad header value %s", qv)
	}
	switch {
	case k == "run":
		m.Run = v
	case k == "tool":
		m.Tool = v
	case k == "host":
		m.Host = v
	case k == "kernel":
		m.Kernel = v
	case k == "plan":
		if m.Plan, err = decodePlan([]byte(v)); err != nil {
			return err
		}
	case k == "start":
		if m.Start, err = time.Parse(time.RFC3339Nano, v); err != nil {
			return fmt.Errorf("bad start time %q", v)
		}
	case strings.HasPrefix(k, "cmd "):
		if m.Commands == nil {
			m.Commands = map[string]string{}
		}
		m.Commands[k[4:]] = v
	case strings.HasPrefix(k, "x "):
		if m.Extra == nil {
			m.Extra = map[string]string{}
		}
		m.Extra[k[2:]] = v
	}
	return nil
}
