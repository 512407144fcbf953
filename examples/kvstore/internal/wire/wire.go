// Package wire is the kvstore's transport: blocking TCP sockets carrying one text line per
// request or reply.
//
// It talks to the kernel through package syscall instead of package net on purpose. Package
// net makes every socket non-blocking and parks goroutines in the runtime's poller, so the
// number of read calls that fail with EAGAIN, and the OS thread that makes each call, depend
// on timing. The kvstore exists to be traced at the system-call level, where two fault-free
// runs must issue the same calls in the same threads: a blocking socket read once per
// message, from one thread locked by the caller, gives exactly that.
package wire

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"syscall"
	"time"
	"unsafe"
)

// ErrTimeout reports a read, write or connect that did not finish within the connection's
// timeout (the kernel's SO_RCVTIMEO and SO_SNDTIMEO).
var ErrTimeout = errors.New("timed out")

// maxLine bounds a line so that a peer that never sends a newline cannot grow a buffer forever.
const maxLine = 1 << 20

// Listener is a listening TCP socket.
type Listener struct{ fd int }

// Listen binds addr ("127.0.0.1:7101" or "[::1]:7101") and calls listen().
func Listen(addr string) (*Listener, error) {
	sa, family, err := sockaddr(addr)
	if err != nil {
		return nil, err
	}
	fd, err := socket(family)
	if err != nil {
		return nil, err
	}
	// SO_REUSEADDR lets a restarted node bind its port while old connections linger.
	if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("setsockopt: %w", err)
	}
	if err := syscall.Bind(fd, sa); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("bind %s: %w", addr, err)
	}
	if err := syscall.Listen(fd, 16); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	return &Listener{fd: fd}, nil
}

// Fd returns the listening socket, for select().
func (l *Listener) Fd() int { return l.fd }

// Accept waits for the next connection; its reads and writes time out after timeout.
func (l *Listener) Accept(timeout time.Duration) (*Conn, error) {
	for {
		fd, err := accept(l.fd)
		if err == syscall.EINTR || err == syscall.ECONNABORTED {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("accept: %w", err)
		}
		if err := setTimeouts(fd, timeout); err != nil {
			syscall.Close(fd)
			return nil, err
		}
		return &Conn{fd: fd}, nil
	}
}

// Close closes the listening socket.
func (l *Listener) Close() error { return syscall.Close(l.fd) }

// Conn is a connected TCP socket with line-oriented reads.
type Conn struct {
	fd  int
	buf []byte // bytes received after the last complete line
}

// Dial connects to addr; the connect, and later reads and writes, time out after timeout.
func Dial(addr string, timeout time.Duration) (*Conn, error) {
	sa, family, err := sockaddr(addr)
	if err != nil {
		return nil, err
	}
	fd, err := socket(family)
	if err != nil {
		return nil, err
	}
	if err := setTimeouts(fd, timeout); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	for {
		err = syscall.Connect(fd, sa)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		syscall.Close(fd)
		if err == syscall.EINPROGRESS || err == syscall.EAGAIN {
			err = ErrTimeout // a blocking connect stopped by SO_SNDTIMEO
		}
		return nil, fmt.Errorf("connect %s: %w", addr, err)
	}
	return &Conn{fd: fd}, nil
}

// Fd returns the socket, for select().
func (c *Conn) Fd() int { return c.fd }

// Fill makes one read() and keeps what it got. A peer's close is ErrClosed, so callers can
// tell it from a failure.
func (c *Conn) Fill() error {
	if len(c.buf) > maxLine {
		return errors.New("line too long")
	}
	var b [4096]byte
	for {
		n, err := syscall.Read(c.fd, b[:])
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return fmt.Errorf("read: %w", ErrTimeout)
		case err != nil:
			return fmt.Errorf("read: %w", err)
		case n == 0:
			return ErrClosed
		}
		c.buf = append(c.buf, b[:n]...)
		return nil
	}
}

// ErrClosed reports that the peer closed the connection (read returned 0).
var ErrClosed = errors.New("connection closed by peer")

// Line returns the next complete line received, without its newline, if there is one.
func (c *Conn) Line() (string, bool) {
	i := bytes.IndexByte(c.buf, '\n')
	if i < 0 {
		return "", false
	}
	line := string(c.buf[:i])
	c.buf = c.buf[i+1:]
	return line, true
}

// ReadLine returns the next line, reading as needed.
func (c *Conn) ReadLine() (string, error) {
	for {
		if line, ok := c.Line(); ok {
			return line, nil
		}
		if err := c.Fill(); err != nil {
			return "", err
		}
	}
}

// Write sends s with as few write() calls as the kernel allows (one, for a small message).
func (c *Conn) Write(s string) error {
	b := []byte(s)
	for len(b) > 0 {
		n, err := syscall.Write(c.fd, b)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return fmt.Errorf("write: %w", ErrTimeout)
		case err != nil:
			return fmt.Errorf("write: %w", err)
		}
		b = b[n:]
	}
	return nil
}

// Call sends one request line and waits for the one-line reply.
func (c *Conn) Call(request string) (string, error) {
	if err := c.Write(request + "\n"); err != nil {
		return "", err
	}
	return c.ReadLine()
}

// Close closes the socket.
func (c *Conn) Close() error { return syscall.Close(c.fd) }

func socket(family int) (int, error) {
	fd, err := streamSocket(family)
	if err != nil {
		return -1, fmt.Errorf("socket: %w", err)
	}
	return fd, nil
}

func setTimeouts(fd int, d time.Duration) error {
	tv := syscall.NsecToTimeval(d.Nanoseconds())
	for _, opt := range []int{syscall.SO_RCVTIMEO, syscall.SO_SNDTIMEO} {
		if err := syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, opt, &tv); err != nil {
			return fmt.Errorf("setsockopt: %w", err)
		}
	}
	return nil
}

// sockaddr parses a literal IP address and port; names are refused so no DNS is involved.
func sockaddr(addr string) (syscall.Sockaddr, int, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return nil, 0, fmt.Errorf("address %q: want IP:port", addr)
	}
	if ap.Addr().Is4() {
		return &syscall.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}, syscall.AF_INET, nil
	}
	return &syscall.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}, syscall.AF_INET6, nil
}

// FdSet is a set of descriptors for Select.
type FdSet struct {
	set syscall.FdSet
	max int
}

// Add puts fd in the set.
func (s *FdSet) Add(fd int) {
	s.set.Bits[fd/fdBits] |= 1 << (fd % fdBits)
	s.max = max(s.max, fd)
}

// Has reports whether fd is in the set (after Select: whether it is readable).
func (s *FdSet) Has(fd int) bool { return s.set.Bits[fd/fdBits]&(1<<(fd%fdBits)) != 0 }

// fdBits is the number of descriptors in one word of an FdSet (64 on Linux,
// 32 on Darwin).
const fdBits = int(unsafe.Sizeof(syscall.FdSet{}.Bits[0]) * 8)

// Select waits until a descriptor in s is readable and leaves only the readable ones in s.
func Select(s *FdSet) error {
	if s.max >= syscall.FD_SETSIZE {
		return fmt.Errorf("select: descriptor %d too large", s.max)
	}
	for {
		set := s.set
		err := sysSelect(s.max+1, &set)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("select: %w", err)
		}
		s.set = set
		return nil
	}
}
