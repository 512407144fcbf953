package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/boxofpain/pain/format"
)

var errUsage = errors.New("usage")

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, errUsage) {
			fmt.Fprintln(os.Stderr, "story:", err)
		}
		os.Exit(2)
	}
}

const defaultQuiet = "PING,+PONG,INFO,INFO-reply,REPLCONF,PUBLISH __sentinel__:hello,message,:,CLIENT SETNAME,SUBSCRIBE"

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("story", flag.ContinueOnError)
	fs.SetOutput(stderr)
	nodes := fs.String("nodes", "workload,primary,replica1,replica2,sentinel1,sentinel2,sentinel3,check", "nodes to draw, in lane order")
	from := fs.String("from", "workload", "start at this node's first event")
	quiet := fs.String("quiet", defaultQuiet, "leave out messages whose label starts with one of these")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: story [-nodes LIST] [-from NODE] [-quiet LIST] trace.arrows")
		return errUsage
	}
	meta, events, err := format.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	lanes := strings.Split(*nodes, ",")
	var q []string
	if *quiet != "" {
		q = strings.Split(*quiet, ",")
	}
	items := collect(events, lanes, *from, q)
	title := fs.Arg(0)
	if meta.Run != "" {
		title = meta.Run
	}
	write(stdout, title, lanes, fold(items))
	return nil
}

// item is one arrow or note of the diagram.
type item struct {
	t        int64
	from, to string // an arrow; to == "" for a note
	conn     string
	label    string
	calls    int    // transfers merged into this arrow
	first    string // with reps > 1: the first and last labels of the block
	reps     int
}

func (it *item) sig() string {
	if it.to == "" {
		return "note " + it.label // notes never fold with each other unless identical
	}
	verb, _, _ := strings.Cut(it.label, " ")
	return it.from + ">" + it.to + " " + verb
}

// collect turns the events into arrows and notes, in time order.
func collect(events []format.Event, lanes []string, from string, quiet []string) []item {
	slices.SortStableFunc(events, func(a, b format.Event) int { return int(a.TimeNS - b.TimeNS) })
	in := map[string]bool{}
	for _, n := range lanes {
		in[n] = true
	}
	start := int64(-1)
	for _, e := range events {
		if e.Node == from {
			start = e.TimeNS
			break
		}
	}
	end := int64(-1)
	for _, e := range events {
		if e.Node == "check" {
			end = max(end, e.TimeNS)
		}
	}
	var items []item
	// mutedLast: whether the last message on a connection, by sender,
	// was left out; a reply to a left-out request is left out too.
	mutedLast := map[string]bool{}
	for _, e := range events {
		if e.TimeNS < start || (end >= 0 && e.TimeNS > end) || !in[e.Node] {
			continue
		}
		if e.Fault != "" {
			items = append(items, item{t: e.TimeNS, from: e.Node, label: fmt.Sprintf("fault %s acts on %s/%s %s", e.Fault, e.Node, e.Thread, e.Syscall)})
		}
		switch e.Syscall {
		case format.EventSignaled:
			items = append(items, item{t: e.TimeNS, from: e.Node, label: fmt.Sprintf("%s killed by %s", e.Node, e.Arg)})
			continue
		case format.EventExited:
			if e.Thread == "main" {
				items = append(items, item{t: e.TimeNS, from: e.Node, label: fmt.Sprintf("%s exits %d", e.Node, e.Ret)})
			}
			continue
		}
		if !isSend(e.Syscall) || e.Ret <= 0 || e.Conn == "" || (e.FDKind != format.KindTCP && e.FDKind != format.KindUnix) {
			continue
		}
		a, b, ok := strings.Cut(e.Conn, ">")
		if !ok {
			continue
		}
		na, nb := nodeOf(a), nodeOf(b)
		to := na
		if to == e.Node {
			to = nb
		}
		if to == e.Node || !in[to] {
			continue
		}
		label := describe(e.Payload, e.Ret)
		if muted(label, quiet) || isReply(label) && mutedLast[e.Conn+" "+to] {
			mutedLast[e.Conn+" "+e.Node] = true
			continue
		}
		mutedLast[e.Conn+" "+e.Node] = false
		if n := len(items); n > 0 && items[n-1].conn == e.Conn && items[n-1].from == e.Node {
			items[n-1].calls++
			continue
		}
		items = append(items, item{t: e.TimeNS, from: e.Node, to: to, conn: e.Conn, label: label, calls: 1})
	}
	return items
}

// isReply tells a reply from a command: commands start with a word in
// capitals.
func isReply(label string) bool {
	w, _, _ := strings.Cut(label, " ")
	if w == "" || strings.ContainsAny(w[:1], "+-:") {
		return true
	}
	return strings.ToUpper(w) != w || strings.ContainsAny(w, "0123456789.")
}

func nodeOf(endpoint string) string {
	n, _, _ := strings.Cut(endpoint, ":")
	return n
}

func isSend(sys string) bool {
	switch sys {
	case "write", "writev", "sendto", "sendmsg", "sendmmsg":
		return true
	}
	return false
}

func muted(label string, quiet []string) bool {
	for _, q := range quiet {
		if q != "" && strings.HasPrefix(label, q) {
			return true
		}
	}
	return false
}

// describe names a transfer by the Redis command or reply it starts with.
func describe(p []byte, n int64) string {
	if len(p) == 0 {
		return fmt.Sprintf("%d bytes", n)
	}
	s := string(p)
	switch {
	case strings.HasPrefix(s, "$EOF:") || strings.HasPrefix(s, "REDIS"):
		return fmt.Sprintf("RDB snapshot (%d bytes)", n)
	case strings.HasPrefix(s, "+FULLRESYNC"), strings.HasPrefix(s, "+CONTINUE"):
		return line(s[1:])
	}
	switch s[0] {
	case '+', '-':
		return line(s)
	case ':':
		return ":" + line(s[1:])
	case '$':
		_, body, _ := strings.Cut(s, "\r\n")
		if strings.HasPrefix(body, "#") {
			return "INFO-reply"
		}
		return line(body)
	case '*':
		// Pipelined commands (a Sentinel's MULTI, SLAVEOF NO ONE, CONFIG
		// REWRITE, EXEC) are joined with "+".
		var cmds []string
		for rest := s; strings.HasPrefix(rest, "*") && len(cmds) < 6; {
			words, tail := resp(rest)
			if len(words) == 0 {
				break
			}
			if len(words) > 4 {
				words = append(words[:4], "…")
			}
			cmds = append(cmds, strings.Join(words, " "))
			rest = tail
		}
		if len(cmds) > 0 {
			return strings.Join(cmds, " + ")
		}
	}
	return fmt.Sprintf("%d bytes", n)
}

func line(s string) string {
	l, _, _ := strings.Cut(s, "\r\n")
	if len(l) > 48 {
		l = l[:48] + "…"
	}
	return l
}

// resp reads the words of a RESP array (bulk strings, integers, simple
// strings, one level deep), as far as the prefix goes, and returns what
// follows it.
func resp(s string) (words []string, tail string) {
	head, rest, ok := strings.Cut(s, "\r\n")
	if !ok {
		return nil, ""
	}
	n, err := strconv.Atoi(head[1:])
	if err != nil || n < 0 {
		return nil, ""
	}
	for i := 0; i < n && rest != ""; i++ {
		var h string
		if h, rest, ok = strings.Cut(rest, "\r\n"); !ok || h == "" {
			break
		}
		switch h[0] {
		case '$':
			size, err := strconv.Atoi(h[1:])
			if err != nil || size < 0 {
				words = append(words, "nil")
				continue
			}
			w := rest[:min(size, len(rest))]
			if len(w) > 40 {
				w = w[:40] + "…"
			}
			words = append(words, w)
			if size+2 > len(rest) {
				return words, ""
			}
			rest = rest[size+2:]
		case ':', '+', '-':
			words = append(words, h[1:])
		default:
			return words, ""
		}
	}
	return words, rest
}

// fold draws a block of items that repeats with only arguments changing
// once, as reps of it.
func fold(items []item) []item {
	var out []item
	for i := 0; i < len(items); {
		bestL, bestK := 0, 1
		for l := 1; l <= 8 && i+2*l <= len(items); l++ {
			k := 1
			for i+(k+1)*l <= len(items) && sameBlock(items, i, i+k*l, l) {
				k++
			}
			if k > 1 && l*k > bestL*bestK {
				bestL, bestK = l, k
			}
		}
		if bestK < 2 {
			out = append(out, items[i])
			i++
			continue
		}
		for j := 0; j < bestL; j++ {
			it := items[i+j]
			last := items[i+(bestK-1)*bestL+j]
			it.first, it.label, it.reps = it.label, last.label, bestK
			for r := 1; r < bestK; r++ {
				it.calls += items[i+r*bestL+j].calls
			}
			out = append(out, it)
		}
		i += bestL * bestK
	}
	return out
}

func sameBlock(items []item, a, b, l int) bool {
	for j := 0; j < l; j++ {
		if items[a+j].to == "" || items[a+j].sig() != items[b+j].sig() {
			return false
		}
	}
	return true
}

// write prints the Mermaid sequence diagram.
func write(w io.Writer, title string, lanes []string, items []item) {
	fmt.Fprintln(w, "sequenceDiagram")
	fmt.Fprintf(w, "    title %s\n", mermaid(title))
	for _, n := range lanes {
		fmt.Fprintf(w, "    participant %s\n", n)
	}
	last := int64(-1)
	for _, it := range items {
		if last >= 0 && it.t-last > 500e6 {
			fmt.Fprintf(w, "    Note over %s,%s: %.1fs later\n", lanes[0], lanes[len(lanes)-1], float64(it.t-last)/1e9)
		}
		last = it.t
		if it.to == "" {
			fmt.Fprintf(w, "    Note over %s: %s (t=%.3fs)\n", it.from, mermaid(it.label), float64(it.t)/1e9)
			continue
		}
		label := it.label
		if it.reps > 1 {
			label = fmt.Sprintf("%s … %s (×%d)", it.first, it.label, it.reps)
			if it.first == it.label {
				label = fmt.Sprintf("%s (×%d)", it.label, it.reps)
			}
		}
		fmt.Fprintf(w, "    %s->>%s: %s\n", it.from, it.to, mermaid(label))
	}
}

// mermaid keeps a label from ending the line or opening Mermaid syntax.
func mermaid(s string) string {
	r := strings.NewReplacer(";", ",", "#", "", "\n", " ", "\r", " ")
	return r.Replace(s)
}
