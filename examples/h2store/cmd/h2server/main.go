// Command h2server keeps keys and values in memory and serves them over
// HTTP/2 without TLS (h2c): PUT /k/KEY stores the request body, GET /k/KEY
// returns it (404 when missing). It exits 0 on SIGTERM or SIGINT, 2 on bad
// flags or when it cannot listen.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
)

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "h2server: %v\n", err)
		os.Exit(2)
	}
}

type store struct {
	mu sync.Mutex
	kv map[string]string
}

func (s *store) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key, ok := strings.CutPrefix(r.URL.Path, "/k/")
	if !ok || key == "" {
		http.NotFound(w, r)
		return
	}
	switch r.Method {
	case http.MethodPut:
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.kv[key] = string(b)
		s.mu.Unlock()
		io.WriteString(w, "OK\n")
	case http.MethodGet:
		s.mu.Lock()
		v, ok := s.kv[key]
		s.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, v)
	default:
		http.Error(w, "PUT or GET", http.StatusMethodNotAllowed)
	}
}

func run(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("h2server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("listen", "127.0.0.1:7201", "address to listen on")
	if err := fs.Parse(args); err != nil {
		return err
	}
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	srv := &http.Server{Handler: &store{kv: map[string]string{}}, Protocols: &p}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-stop
		srv.Shutdown(context.Background())
	}()
	fmt.Fprintf(stderr, "h2server: listening on %s\n", *addr)
	if err := srv.Serve(l); err != http.ErrServerClosed {
		return err
	}
	return nil
}
