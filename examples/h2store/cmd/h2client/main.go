// Command h2client is the workload and the check of the h2store example,
// over HTTP/2 without TLS (h2c) on one connection.
//
//	h2client -server ADDR -n N -acked FILE   PUT k1..kN one after the other; every
//	                                         acknowledged key goes to FILE at once
//	h2client -server ADDR -check -acked FILE GET every key in FILE; exit 1 naming
//	                                         the first one lost or changed
//
// A failed request is not retried: the workload goes on with the next key.
// Exit status 2 on bad flags or files.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

func main() {
	code, err := run(os.Args[1:], os.Stdout, os.Stderr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "h2client: %v\n", err)
	}
	os.Exit(code)
}

func run(args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("h2client", flag.ContinueOnError)
	fs.SetOutput(stderr)
	server := fs.String("server", "127.0.0.1:7201", "the server's address")
	n := fs.Int("n", 5, "workload: number of keys to write")
	acked := fs.String("acked", "acked.txt", "file of acknowledged writes")
	check := fs.Bool("check", false, "read back every acknowledged write")
	if err := fs.Parse(args); err != nil {
		return 2, err
	}
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Protocols: &p}}
	base := "http://" + *server + "/k/"
	if *check {
		return verify(c, base, *acked, stdout)
	}
	f, err := os.Create(*acked)
	if err != nil {
		return 2, err
	}
	ok := 0
	for i := 1; i <= *n; i++ {
		key, value := fmt.Sprintf("k%d", i), fmt.Sprintf("v%d", i)
		req, _ := http.NewRequest(http.MethodPut, base+key, strings.NewReader(value))
		resp, err := c.Do(req)
		if err != nil {
			fmt.Fprintf(stderr, "h2client: %s: %v\n", key, err)
			continue
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			fmt.Fprintf(stderr, "h2client: %s: %s\n", key, resp.Status)
			continue
		}
		if _, err := fmt.Fprintf(f, "%s %s\n", key, value); err != nil {
			return 2, err
		}
		ok++
	}
	if err := f.Close(); err != nil {
		return 2, err
	}
	fmt.Fprintf(stdout, "h2client: %d of %d writes acknowledged\n", ok, *n)
	return 0, nil
}

func verify(c *http.Client, base, acked string, stdout io.Writer) (int, error) {
	f, err := os.Open(acked)
	if err != nil {
		return 2, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		key, value, _ := strings.Cut(sc.Text(), " ")
		resp, err := c.Get(base + key)
		if err != nil {
			return 1, fmt.Errorf("%s: %v", key, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(b) != value {
			return 1, fmt.Errorf("%s: acknowledged %q, reads %s %q", key, value, resp.Status, b)
		}
		n++
	}
	fmt.Fprintf(stdout, "h2client: %d acknowledged writes read back\n", n)
	return 0, sc.Err()
}
