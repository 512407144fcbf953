package track

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// Inputs returns args with "-" (at most once) replaced by what stdin holds:
// either one trace or schedules file, or a list of file names. A stream
// starts as the tools write one: an Arrow IPC stream with its continuation
// marker (0xFFFFFFFF), or the text form's "# pain " header; it is copied
// to a temporary file, since tracking reads a file more than once (its
// metadata first, its rows later, its call times for the pictures), and
// cleanup removes it. Anything else is a list: one file name a line, blank
// lines skipped (find ... | pain-track -). Binary input that is no Arrow
// stream is taken for a stream too, so that the reader says what is wrong
// with it rather than a file name made of its bytes. spooled is the
// temporary copy of stdin, if any (Options.Temp).
func Inputs(args []string, stdin io.Reader) (paths []string, spooled string, cleanup func(), err error) {
	cleanup = func() {}
	dashes := 0
	for _, a := range args {
		if a == "-" {
			dashes++
		}
	}
	switch {
	case dashes == 0:
		return args, "", cleanup, nil
	case dashes > 1:
		return nil, "", cleanup, errors.New("- (stdin) given more than once")
	}
	br := bufio.NewReaderSize(stdin, 1<<16)
	head, err := br.Peek(512)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, "", cleanup, fmt.Errorf("stdin: %v", err)
	}
	if len(head) == 0 {
		return nil, "", cleanup, errors.New("stdin: empty: want a trace, or file names one a line")
	}
	var got []string
	if isStream(head) {
		dir, err := os.MkdirTemp("", "pain-track-")
		if err != nil {
			return nil, "", cleanup, err
		}
		cleanup = func() { os.RemoveAll(dir) }
		spooled = filepath.Join(dir, "stdin")
		if err := spool(spooled, br); err != nil {
			cleanup()
			return nil, "", func() {}, err
		}
		got = []string{spooled}
	} else if got, err = readList(br); err != nil {
		return nil, "", cleanup, err
	}
	for _, a := range args {
		if a == "-" {
			paths = append(paths, got...)
		} else {
			paths = append(paths, a)
		}
	}
	return paths, spooled, cleanup, nil
}

// isStream says whether stdin's first bytes are a file's rather than a
// list of names.
func isStream(head []byte) bool {
	if bytes.HasPrefix(head, []byte{0xff, 0xff, 0xff, 0xff}) || bytes.HasPrefix(head, []byte("# pain ")) {
		return true
	}
	// A cut may split a rune at the end of head: look at whole ones only.
	for len(head) > 0 && !utf8.Valid(head) && len(head) > 508 {
		head = head[:len(head)-1]
	}
	return !utf8.Valid(head) || bytes.IndexByte(head, 0) >= 0
}

func spool(path string, r io.Reader) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return fmt.Errorf("stdin: %v", err)
	}
	return f.Close()
}

// readList reads file names, one a line.
func readList(r io.Reader) ([]string, error) {
	var names []string
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if name := strings.TrimSuffix(sc.Text(), "\r"); name != "" {
			names = append(names, name)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("stdin: %v", err)
	}
	if len(names) == 0 {
		return nil, errors.New("stdin: no file names")
	}
	return names, nil
}
