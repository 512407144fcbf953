package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"runtime"
	"time"

	"github.com/boxofpain/pain/examples/kvstore/internal/wire"
)

// Keep every network system call in the main thread (see package wire).
func init() { runtime.LockOSThread() }

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "kvload: %v\n", err)
		os.Exit(2)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("kvload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	primary := fs.String("primary", "127.0.0.1:7101", "the primary's address")
	n := fs.Int("n", 5, "number of keys to write")
	acked := fs.String("acked", "acked.txt", "file to record acknowledged writes in")
	timeout := fs.Duration("timeout", 10*time.Second, "how long to wait for the primary")
	interval := fs.Duration("interval", 0, "pause between two writes")
	step := fs.Bool("step", false, "before each write but the first, wait for a line on stdin")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	f, err := os.Create(*acked)
	if err != nil {
		return err
	}
	logger := log.New(stderr, "kvload: ", 0)
	lines := bufio.NewReader(os.Stdin)
	var c *wire.Conn
	ok := 0
	for i := 1; i <= *n; i++ {
		if i > 1 {
			time.Sleep(*interval)
			if *step {
				if _, err := lines.ReadString('\n'); err != nil {
					return fmt.Errorf("-step: stdin: %w", err)
				}
			}
		}
		key, value := fmt.Sprintf("k%d", i), fmt.Sprintf("v%d", i)
		if c == nil {
			if c, err = wire.Dial(*primary, *timeout); err != nil {
				logger.Printf("%s: %v", key, err)
				continue
			}
		}
		reply, err := c.Call("PUT " + key + " " + value)
		if err != nil {
			logger.Printf("%s: %v", key, err)
			c.Close()
			c = nil
			continue
		}
		if reply != "OK" {
			logger.Printf("%s: not acknowledged: %s", key, reply)
			continue
		}
		// Recorded at once, so a workload killed later still leaves what it was told.
		if _, err := fmt.Fprintf(f, "%s %s\n", key, value); err != nil {
			return err
		}
		ok++
	}
	if c != nil {
		c.Close()
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "kvload: %d of %d writes acknowledged\n", ok, *n)
	return nil
}
