package cli

import (
	"fmt"
	"io"
	"os"
	"time"
)

// Progress shows how far a long job is on one line of a terminal,
// rewritten in place ("pain-track: 120/500 runs"). On anything but a
// terminal (a file, a pipe, a CI log) or when asked to be quiet it shows
// nothing, so logs get only the tool's real messages.
type Progress struct {
	w      io.Writer
	prefix string
	last   time.Time
	shown  bool
}

// NewProgress returns a Progress writing to stderr when it is a terminal
// and quiet is false; otherwise its methods do nothing.
func NewProgress(stderr io.Writer, prefix string, quiet bool) *Progress {
	if quiet || !IsTerminal(stderr) {
		return &Progress{}
	}
	return &Progress{w: stderr, prefix: prefix}
}

// Update shows done of total, at most ten times a second, and always the last.
func (p *Progress) Update(done, total int, what string) {
	if p.w == nil || (done < total && time.Since(p.last) < 100*time.Millisecond) {
		return
	}
	p.last, p.shown = time.Now(), true
	fmt.Fprintf(p.w, "\r%s%d/%d %s\x1b[K", p.prefix, done, total, what)
}

// Done clears the progress line, so the tool's next line starts clean.
func (p *Progress) Done() {
	if p.shown {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.shown = false
	}
}

// IsTerminal says whether w is a terminal (isTerminal: on Linux, an
// *os.File the TCGETS ioctl accepts).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && isTerminal(f)
}
