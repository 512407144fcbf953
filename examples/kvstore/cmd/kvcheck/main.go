package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/boxofpain/pain/examples/kvstore/internal/wire"
)

// Keep every network system call in the main thread (see package wire).
func init() { runtime.LockOSThread() }

// lostError is a failed check: a finding about the store, exit status 1.
type lostError struct{ msg string }

func (e lostError) Error() string { return e.msg }

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	if err == nil {
		return
	}
	fmt.Fprintf(os.Stderr, "kvcheck: %v\n", err)
	if errors.As(err, new(lostError)) {
		os.Exit(1)
	}
	os.Exit(2)
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("kvcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	backups := fs.String("backups", "127.0.0.1:7102,127.0.0.1:7103", "the backups, comma-separated, in promotion order")
	ackedPath := fs.String("acked", "acked.txt", "acknowledged writes, as recorded by kvload")
	timeout := fs.Duration("timeout", 2*time.Second, "how long to wait for a backup")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	acked, err := readAcked(*ackedPath)
	if errors.Is(err, os.ErrNotExist) {
		// kvload creates the file before its first write, so a workload that never got that
		// far (crashed at start) was told nothing.
		fmt.Fprintf(stderr, "kvcheck: no %s: nothing was acknowledged\n", *ackedPath)
	} else if err != nil {
		return err
	}
	var skipped []string
	for i, addr := range strings.Split(*backups, ",") {
		name := fmt.Sprintf("backup%d (%s)", i+1, addr)
		data, joined, err := dump(addr, *timeout)
		switch {
		case err != nil:
			skipped = append(skipped, fmt.Sprintf("%s did not answer: %v", name, err))
			continue
		case !joined:
			skipped = append(skipped, name+" never joined a primary")
			continue
		}
		for _, w := range acked {
			if got, ok := data[w.key]; !ok || got != w.value {
				return lostError{fmt.Sprintf("acknowledged write %s=%s lost: promoted %s does not have it (%d keys)",
					w.key, w.value, name, len(data))}
			}
		}
		fmt.Fprintf(stdout, "kvcheck: promoted %s, it holds all %d acknowledged writes\n", name, len(acked))
		return nil
	}
	if len(acked) == 0 {
		fmt.Fprintf(stdout, "kvcheck: no backup to promote, but nothing was acknowledged\n")
		return nil
	}
	return lostError{fmt.Sprintf("%d acknowledged writes lost (first %s): no backup can be promoted: %s",
		len(acked), acked[0].key, strings.Join(skipped, "; "))}
}

type write struct{ key, value string }

// readAcked reads kvload's "key value" lines; a torn last line (kvload killed while writing
// it) is ignored, anything else malformed is an error.
func readAcked(path string) ([]write, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var ws []write
	for i, line := range strings.SplitAfter(string(b), "\n") {
		if line == "" || !strings.HasSuffix(line, "\n") {
			break
		}
		f := strings.Fields(line)
		if len(f) != 2 {
			return nil, fmt.Errorf("%s:%d: want key value", path, i+1)
		}
		ws = append(ws, write{f[0], f[1]})
	}
	return ws, nil
}

// dump asks one backup for everything it holds.
func dump(addr string, timeout time.Duration) (map[string]string, bool, error) {
	c, err := wire.Dial(addr, timeout)
	if err != nil {
		return nil, false, err
	}
	defer c.Close()
	if err := c.Write("DUMP\n"); err != nil {
		return nil, false, err
	}
	return readDump(c.ReadLine)
}

// readDump parses a DUMP reply, given its lines one by one: "JOINED yes|no", "key value"
// lines, "END". A reply cut short is an error, never a smaller data set: a backup that did
// not finish answering is skipped.
func readDump(next func() (string, error)) (map[string]string, bool, error) {
	head, err := next()
	if err != nil {
		return nil, false, err
	}
	var joined bool
	switch head {
	case "JOINED yes":
		joined = true
	case "JOINED no":
	default:
		return nil, false, fmt.Errorf("bad reply %q", head)
	}
	data := map[string]string{}
	for {
		line, err := next()
		if err != nil {
			return nil, false, err
		}
		if line == "END" {
			return data, joined, nil
		}
		f := strings.Fields(line)
		if len(f) != 2 {
			return nil, false, fmt.Errorf("bad reply line %q", line)
		}
		data[f[0]] = f[1]
	}
}
