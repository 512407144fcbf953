// Command poolcheck is the pool example's check: every acknowledged write
// (as poolload recorded them) must be on every follower. Exit 1 when one
// is missing, 2 on other errors (see package pool's documentation).
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"
)

type lostError struct{ msg string }

func (e lostError) Error() string { return e.msg }

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	if err == nil {
		return
	}
	fmt.Fprintf(os.Stderr, "poolcheck: %v\n", err)
	if errors.As(err, new(lostError)) {
		os.Exit(1)
	}
	os.Exit(2)
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("poolcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	followers := fs.String("followers", "127.0.0.1:7302,127.0.0.1:7303", "the followers, comma-separated")
	ackedPath := fs.String("acked", "acked.txt", "acknowledged writes, as recorded by poolload")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	b, err := os.ReadFile(*ackedPath)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	acked := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(b) == 0 {
		acked = nil
	}
	for _, addr := range strings.Split(*followers, ",") {
		held, err := dump(addr)
		if err != nil {
			return lostError{fmt.Sprintf("follower %s did not answer: %v", addr, err)}
		}
		for _, w := range acked {
			if !held[w] {
				return lostError{fmt.Sprintf("acknowledged write %q is not on follower %s (%d keys)", w, addr, len(held))}
			}
		}
	}
	fmt.Fprintf(stdout, "poolcheck: all %d acknowledged writes are on every follower\n", len(acked))
	return nil
}

// dump reads a follower's writes, as "key value" lines.
func dump(addr string) (map[string]bool, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, "DUMP\n"); err != nil {
		return nil, err
	}
	held := map[string]bool{}
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		if line = strings.TrimSpace(line); line == "END" {
			return held, nil
		}
		held[line] = true
	}
}
