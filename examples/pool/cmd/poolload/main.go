// Command poolload is the pool example's workload: it writes keys k1..kN
// to the leader, one after the other on one connection, and appends each
// acknowledged write to a file (see package pool's documentation).
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

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "poolload: %v\n", err)
		os.Exit(2)
	}
}

// run writes the keys; a leader that fails ends the writes early, which
// is no error: the check judges what was acknowledged.
func run(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("poolload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	leader := fs.String("leader", "127.0.0.1:7301", "the leader's address")
	n := fs.Int("n", 5, "writes")
	interval := fs.Duration("interval", 10*time.Millisecond, "pause between two writes")
	ackedPath := fs.String("acked", "acked.txt", "file the acknowledged writes are appended to")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	acked, err := os.OpenFile(*ackedPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer acked.Close()
	c, err := net.DialTimeout("tcp", *leader, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	r := bufio.NewReader(c)
	for i := 1; i <= *n; i++ {
		if i > 1 {
			time.Sleep(*interval)
		}
		k, v := fmt.Sprintf("k%d", i), fmt.Sprintf("v%d", i)
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := fmt.Fprintf(c, "PUT %s %s\n", k, v); err != nil {
			fmt.Fprintf(stderr, "poolload: write %s: %v\n", k, err)
			return nil
		}
		reply, err := r.ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			fmt.Fprintf(stderr, "poolload: write %s: %v\n", k, err)
			return nil
		}
		if strings.TrimSpace(reply) != "OK" {
			fmt.Fprintf(stderr, "poolload: write %s: %q\n", k, strings.TrimSpace(reply))
			continue
		}
		if _, err := fmt.Fprintf(acked, "%s %s\n", k, v); err != nil {
			return err
		}
	}
	return nil
}
