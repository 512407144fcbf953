package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/boxofpain/pain/examples/kvstore/internal/wire"
)

// All of a node's sockets are used from its main goroutine, so locking it to the main OS
// thread makes every network system call come from the same thread in every run.
func init() { runtime.LockOSThread() }

// main runs the node until a signal ends it (exitOnSignal): run returns only
// on an error.
func main() {
	err := run(os.Args[1:], os.Stderr)
	fmt.Fprintf(os.Stderr, "kvnode: %v\n", err)
	os.Exit(2)
}

func run(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("kvnode", flag.ContinueOnError)
	fs.SetOutput(stderr)
	role := fs.String("role", "", "`primary` or backup")
	addr := fs.String("listen", "", "address to listen on (primary default 127.0.0.1:7101)")
	backups := fs.String("backups", "127.0.0.1:7102,127.0.0.1:7103", "primary: the backups, comma-separated")
	fixed := fs.Bool("fixed", false, "primary: acknowledge a write only when every backup has it")
	timeout := fs.Duration("timeout", 2*time.Second, "primary: how long to wait for a backup")
	beat := fs.Duration("heartbeat", 0, "primary: ping every backup about this often, on connections of their own (0: never)")
	data := fs.String("data", "", "backup: keep a write-ahead log in this `folder` and recover from it at start")
	syncMode := fs.String("sync", "before", "backup with -data: fdatasync the log `before` answering, or after (the bug)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	switch {
	case *role == "primary" && *addr == "":
		*addr = "127.0.0.1:7101"
	case *role == "backup" && *addr == "":
		return fmt.Errorf("a backup needs -listen")
	case *role != "primary" && *role != "backup":
		return fmt.Errorf("-role must be primary or backup")
	case *syncMode != "before" && *syncMode != "after":
		return fmt.Errorf("-sync must be before or after")
	}
	logger := log.New(stderr, fmt.Sprintf("kvnode %s %s: ", *role, *addr), 0)
	// A backup recovers its log before it listens: once it accepts, it
	// answers from everything it acknowledged before.
	s := &store{values: map[string]string{}}
	if *role == "backup" && *data != "" {
		w, err := openWAL(*data, s, logger)
		if err != nil {
			return err
		}
		w.syncAfter = *syncMode == "after"
		s.wal = w
	}
	l, err := wire.Listen(*addr)
	if err != nil {
		return err
	}
	// Nodes exit at once on SIGTERM, so a stopped cluster races: a backup
	// may read its primary's end of file before its own SIGTERM, or not.
	// The tracer's teardown mark keeps that race out of the schedules
	// (TestTeardownOneSchedule). The handler is in place before the node
	// says it listens: a SIGTERM right after would otherwise kill it.
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	logger.Printf("listening")
	go exitOnSignal(stop, logger)
	if *role == "backup" {
		return serveBackup(l, s, logger)
	}
	p := &primary{fixed: *fixed, timeout: *timeout, log: logger}
	for _, a := range strings.Split(*backups, ",") {
		p.backups = append(p.backups, &replica{addr: a})
	}
	if *beat > 0 {
		go heartbeat(strings.Split(*backups, ","), *beat, logger)
	}
	return p.serve(l)
}

// exitOnSignal ends the node on SIGTERM or SIGINT. The store lives in
// memory or, with -data, in a log synced as it goes, so there is nothing to flush:
// exiting 0 is the clean shutdown.
func exitOnSignal(c <-chan os.Signal, logger *log.Logger) {
	sig := <-c
	logger.Printf("%v, exiting", sig)
	os.Exit(0)
}
