package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// conn is one RESP2 connection to a Redis server or a Sentinel. Every
// command has a deadline, so a paused server shows up as a timeout rather
// than a hang, unless the caller chose a deadline longer than the pause.
type conn struct {
	nc      net.Conn
	r       *bufio.Reader
	timeout time.Duration
}

// reply is one decoded RESP value.
type reply struct {
	kind byte // '+', '-', ':', '$', '*'
	str  string
	num  int64
	arr  []reply
	null bool // $-1 or *-1
}

// serverError is an error reply ("-READONLY ...").
type serverError string

func (e serverError) Error() string { return string(e) }

func dial(addr string, timeout time.Duration) (*conn, error) {
	nc, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	return &conn{nc: nc, r: bufio.NewReader(nc), timeout: timeout}, nil
}

func (c *conn) Close() error { return c.nc.Close() }

// do sends one command and reads its reply. An error reply is returned as
// a serverError, with the connection still usable.
func (c *conn) do(args ...string) (reply, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	c.nc.SetDeadline(time.Now().Add(c.timeout))
	if _, err := c.nc.Write([]byte(b.String())); err != nil {
		return reply{}, err
	}
	r, err := readReply(c.r)
	if err != nil {
		return reply{}, err
	}
	if r.kind == '-' {
		return r, serverError(r.str)
	}
	return r, nil
}

var errProtocol = errors.New("RESP protocol error")

func readLine(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return "", fmt.Errorf("%w: bad line %q", errProtocol, line)
	}
	return line[:len(line)-2], nil
}

func readReply(r *bufio.Reader) (reply, error) {
	line, err := readLine(r)
	if err != nil {
		return reply{}, err
	}
	rep := reply{kind: line[0]}
	body := line[1:]
	switch rep.kind {
	case '+', '-':
		rep.str = body
	case ':':
		rep.num, err = strconv.ParseInt(body, 10, 64)
	case '$':
		n, perr := strconv.Atoi(body)
		switch {
		case perr != nil || n < -1 || n > 512<<20:
			err = fmt.Errorf("%w: bad bulk length %q", errProtocol, body)
		case n == -1:
			rep.null = true
		default:
			buf := make([]byte, n+2)
			if _, err = io.ReadFull(r, buf); err == nil {
				rep.str = string(buf[:n])
			}
		}
	case '*':
		n, perr := strconv.Atoi(body)
		switch {
		case perr != nil || n < -1 || n > 1<<20:
			err = fmt.Errorf("%w: bad array length %q", errProtocol, body)
		case n == -1:
			rep.null = true
		default:
			rep.arr = make([]reply, n)
			for i := range rep.arr {
				if rep.arr[i], err = readReply(r); err != nil {
					break
				}
			}
		}
	default:
		err = fmt.Errorf("%w: unknown type %q", errProtocol, rep.kind)
	}
	return rep, err
}

// fields turns a flat array of key, value, key, value (SENTINEL master)
// into a map.
func (r reply) fields() map[string]string {
	m := make(map[string]string, len(r.arr)/2)
	for i := 0; i+1 < len(r.arr); i += 2 {
		m[r.arr[i].str] = r.arr[i+1].str
	}
	return m
}

// info parses an INFO reply ("key:value" lines) into a map.
func info(text string) map[string]string {
	m := make(map[string]string)
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if k, v, ok := strings.Cut(line, ":"); ok && !strings.HasPrefix(line, "#") {
			m[k] = v
		}
	}
	return m
}
