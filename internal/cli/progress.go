package cli

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"time"
)

// Progress shows how far a long job is on one line of a terminal,
// rewritten in place ("pain-track: 120/500 runs"). On anything but a
// terminal (a file, a pipe, a CI log) or when asked to be quiet it shows
// nothing, so logs get only the tool's real messages; or, made by
// NewProgressLines, one line per update there.
type Progress struct {
	w      io.Writer
	prefix string
	last   time.Time
	shown  bool
	lines  bool   // not a terminal: each update a line of its own
	line   string // what the line shows, to draw it again (Above)
}

// NewProgress returns a Progress writing to stderr when it is a terminal
// and quiet is false; otherwise its methods do nothing.
func NewProgress(stderr io.Writer, prefix string, quiet bool) *Progress {
	if quiet || !IsTerminal(stderr) {
		return &Progress{}
	}
	return &Progress{w: stderr, prefix: prefix}
}

// NewProgressLines is NewProgress for jobs of few, slow steps, each worth
// a line in a log (the runs of pain-inject -repeat): off a terminal every
// update is written as a line of its own.
func NewProgressLines(stderr io.Writer, prefix string) *Progress {
	return &Progress{w: stderr, prefix: prefix, lines: !IsTerminal(stderr)}
}

// Update shows done of total, at most ten times a second, and always the
// last; as lines, every update.
func (p *Progress) Update(done, total int, what string) {
	if p.w == nil {
		return
	}
	if p.lines {
		fmt.Fprintf(p.w, "%s%d/%d %s\n", p.prefix, done, total, what)
		return
	}
	if done < total && time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last, p.shown = time.Now(), true
	p.line = fmt.Sprintf("%s%d/%d %s", p.prefix, done, total, what)
	fmt.Fprintf(p.w, "\r%s\x1b[K", p.line)
}

// Done clears the progress line, so the tool's next line starts clean.
func (p *Progress) Done() {
	if p.shown {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.shown = false
	}
}

// Above returns the writer for the tool's other messages to the same
// terminal: each write clears the progress line first and, once a line
// is complete, draws it again under it, so it stays the last line. Off a
// terminal it is w itself.
func (p *Progress) Above(w io.Writer) io.Writer {
	if p.w == nil || p.lines {
		return w
	}
	return above{p, w}
}

type above struct {
	p *Progress
	w io.Writer
}

func (a above) Write(b []byte) (int, error) {
	a.p.Done()
	n, err := a.w.Write(b)
	if a.p.line != "" && bytes.HasSuffix(b, []byte("\n")) {
		a.p.shown = true
		fmt.Fprintf(a.p.w, "\r%s\x1b[K", a.p.line)
	}
	return n, err
}

// IsTerminal says whether w is a terminal (isTerminal: on Linux, an
// *os.File the TCGETS ioctl accepts).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && isTerminal(f)
}
