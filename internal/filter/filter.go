// Package filter selects the rows of a trace the way strace users expect:
// by system call or class of calls (-e trace=network,read), by node and by
// connection.
//
// A trace expression is "trace=SET" (or SET alone), SET a comma-separated
// list of system call names and classes, a class written with or without
// strace's leading %; a leading ! selects everything but SET. The classes:
//
//	network   calls on sockets: socket, socketpair, bind, listen, accept,
//	          accept4, connect, sendto, recvfrom, sendmsg, recvmsg,
//	          sendmmsg, recvmmsg, shutdown (strace's %network)
//	process   clone, clone3, fork, vfork, execve, execveat, exit,
//	          exit_group, wait4, waitid, kill, tkill, tgkill, and the
//	          process events start, exited, signaled
//	signal    kill, tkill, tgkill and signaled
//	desc      every call on a file descriptor (a row with an fd)
//	file      every row about a file: opens, reads and writes, syncs,
//	          renames, links, unlinks, mkdir, truncation (rows of fd_kind
//	          file; strace's %file names calls that take a path)
//
// Node and connection patterns are shell patterns (path.Match): -node
// 'kv*', -conn 'workload:*'.
package filter

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/boxofpain/pain/format"
)

// classes are the named sets of calls, as data.
var classes = map[string][]string{
	"network": {"socket", "socketpair", "bind", "listen", "accept", "accept4", "connect", "sendto", "recvfrom",
		"sendmsg", "recvmsg", "sendmmsg", "recvmmsg", "shutdown"},
	"process": {"clone", "clone3", "fork", "vfork", "execve", "execveat", "exit", "exit_group", "wait4", "waitid",
		"kill", "tkill", "tgkill", format.EventStart, format.EventExited, format.EventSignaled},
	"signal": {"kill", "tkill", "tgkill", format.EventSignaled},
}

// aliases are strace's other names for the classes.
var aliases = map[string]string{"net": "network"}

// ErrBadExpr is wrapped by the errors of Parse.
var ErrBadExpr = errors.New("bad filter")

// Filter selects rows. The zero Filter selects every row.
type Filter struct {
	calls  map[string]bool // nil: any call
	desc   bool            // any call with an fd
	files  bool            // any row of fd_kind file
	negate bool
	nodes  []string // patterns; empty: any node
	conns  []string
}

// Options are the filter's settings as flags give them.
type Options struct {
	Expr  string // -e: trace=SET
	Nodes string // -node: comma-separated patterns
	Conns string // -conn: comma-separated patterns
}

// New builds a filter, checking every part of it.
func New(o Options) (*Filter, error) {
	f := &Filter{}
	if err := f.parseExpr(o.Expr); err != nil {
		return nil, err
	}
	var err error
	if f.nodes, err = patterns("-node", o.Nodes); err != nil {
		return nil, err
	}
	if f.conns, err = patterns("-conn", o.Conns); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *Filter) parseExpr(expr string) error {
	if expr == "" {
		return nil
	}
	set := expr
	if q, v, ok := strings.Cut(expr, "="); ok {
		if q != "trace" {
			return fmt.Errorf("%w: -e %s: only trace=SET is supported", ErrBadExpr, expr)
		}
		set = v
	}
	if rest, ok := strings.CutPrefix(set, "!"); ok {
		f.negate, set = true, rest
	}
	f.calls = map[string]bool{}
	for _, name := range strings.Split(set, ",") {
		name = strings.TrimPrefix(strings.TrimSpace(name), "%")
		if a, ok := aliases[name]; ok {
			name = a
		}
		switch {
		case name == "":
			return fmt.Errorf("%w: -e %s: empty name in the set", ErrBadExpr, expr)
		case name == "desc":
			f.desc = true
		case name == "file":
			f.files = true
		case classes[name] != nil:
			for _, c := range classes[name] {
				f.calls[c] = true
			}
		case strings.Trim(name, "abcdefghijklmnopqrstuvwxyz0123456789_") != "":
			return fmt.Errorf("%w: -e %s: %q is not a system call or class name", ErrBadExpr, expr, name)
		default:
			f.calls[name] = true
		}
	}
	return nil
}

func patterns(flag, list string) ([]string, error) {
	if list == "" {
		return nil, nil
	}
	var ps []string
	for _, p := range strings.Split(list, ",") {
		if _, err := path.Match(p, ""); err != nil || p == "" {
			return nil, fmt.Errorf("%w: %s %q: bad pattern", ErrBadExpr, flag, p)
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// Keep says whether the filter selects e.
func (f *Filter) Keep(e *format.Event) bool {
	if f.calls != nil {
		in := f.calls[e.Syscall] || (f.desc && e.FD >= 0) || (f.files && e.FDKind == format.KindFile)
		if in == f.negate {
			return false
		}
	}
	return matchAny(f.nodes, e.Node) && matchAny(f.conns, e.Conn)
}

func matchAny(patterns []string, s string) bool {
	if patterns == nil {
		return true
	}
	for _, p := range patterns {
		if ok, _ := path.Match(p, s); ok {
			return true
		}
	}
	return false
}
