// Command poolnode is a leader or a follower of the pool example (see
// package pool's documentation).
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	err := run(os.Args[1:], os.Stderr)
	fmt.Fprintf(os.Stderr, "poolnode: %v\n", err)
	os.Exit(2)
}

// run serves until a signal ends the process: it returns only on an error.
func run(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("poolnode", flag.ContinueOnError)
	fs.SetOutput(stderr)
	role := fs.String("role", "", "`leader` or follower")
	addr := fs.String("listen", "", "address to listen on")
	followers := fs.String("followers", "", "leader: the followers, comma-separated")
	size := fs.Int("pool", 3, "leader: connections to each follower")
	beat := fs.Duration("heartbeat", 20*time.Millisecond, "leader: ping every follower this often")
	timeout := fs.Duration("timeout", 300*time.Millisecond, "leader: how long to wait for a follower")
	fixed := fs.Bool("fixed", false, "leader: answer ERR, not OK, once a follower failed")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case *addr == "":
		return errors.New("-listen is required")
	case *role == "leader" && (*followers == "" || *size < 1):
		return errors.New("a leader needs -followers and -pool >= 1")
	case *role != "leader" && *role != "follower":
		return errors.New("-role must be leader or follower")
	}
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	logger := log.New(stderr, fmt.Sprintf("poolnode %s %s: ", *role, *addr), 0)
	logger.Printf("listening")
	go func() {
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGTERM, syscall.SIGINT)
		logger.Printf("%v, exiting", <-c)
		os.Exit(0)
	}()
	if *role == "follower" {
		return serve(l, newFollower().handle)
	}
	ld := newLeader(strings.Split(*followers, ","), *size, *timeout, *fixed, logger)
	go ld.heartbeat(*beat)
	return serve(l, ld.handle)
}

// serve answers each line of each connection with handle, one goroutine a
// connection.
func serve(l net.Listener, handle func(line string, w io.Writer) error) error {
	for {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		go func() {
			defer c.Close()
			r := bufio.NewReader(c)
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if handle(strings.TrimSpace(line), c) != nil {
					return
				}
			}
		}()
	}
}
