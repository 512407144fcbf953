package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/boxofpain/pain/format"
)

// All socket calls stay on the main thread, so traced runs name them the
// same way every time (the Go scheduler would otherwise move them around).
func init() { runtime.LockOSThread() }

// started is when the process began running Go code: -elapsed measures
// from here, so it includes connecting, not only the writes.
var started = time.Now()

// errUsage, errFailed and errCannotJudge map to exit statuses 2, 1 and
// 125 (format.CheckCannotJudge: pain-inject's verdict inconclusive).
var (
	errUsage       = errors.New("usage")
	errFailed      = errors.New("check failed")
	errCannotJudge = errors.New("cannot judge")
)

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case err == nil:
	case errors.Is(err, errFailed):
		os.Exit(1)
	case errors.Is(err, errCannotJudge):
		os.Exit(format.CheckCannotJudge)
	default:
		if !errors.Is(err, errUsage) {
			fmt.Fprintln(os.Stderr, "rediswl:", err)
		}
		os.Exit(2)
	}
}

const usage = `usage:
  rediswl ready   -sentinels A,B,C [-replicas 2] [-strict 5s] [-wait 30s]
  rediswl write   -sentinels A,B,C -acked FILE [-n 100] [-timeout 10s] [-retry 10s] [-gap 0] [-elapsed FILE] [-settle 20s]
  rediswl check   -sentinels A,B,C -acked FILE [-settle 20s]
  rediswl primary -sentinels A,B,C`

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return errUsage
	}
	cmd := args[0]
	fs := flag.NewFlagSet("rediswl "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	sentinels := fs.String("sentinels", "127.0.0.1:27379,127.0.0.1:27380,127.0.0.1:27381", "Sentinel addresses, comma-separated")
	master := fs.String("master", "mymaster", "name of the monitored master")
	server := fs.String("server", "", "a single server `ADDR`, no Sentinels: write and check talk to it (the AOF experiment)")
	timeout := fs.Duration("timeout", 10*time.Second, "deadline of one command to the primary")
	settle := fs.Duration("settle", 20*time.Second, "longest wait for the Sentinels to settle")
	var (
		replicas *int
		strict   *time.Duration
		wait     *time.Duration
		acked    *string
		n        *int
		retry    *time.Duration
		gap      *time.Duration
		elapsed  *string
		quiet    *time.Duration
	)
	switch cmd {
	case "ready":
		replicas = fs.Int("replicas", 2, "replicas the primary must have streaming")
		strict = fs.Duration("strict", 5*time.Second, "after this, a degraded system is ready too")
		wait = fs.Duration("wait", 30*time.Second, "longest wait")
	case "write":
		acked = fs.String("acked", "", "file to which acknowledged keys are appended")
		n = fs.Int("n", 100, "keys to write")
		retry = fs.Duration("retry", 10*time.Second, "how long to retry one key before giving up the rest")
		gap = fs.Duration("gap", 0, "pause between writes (to aim a fault by hand)")
		elapsed = fs.String("elapsed", "", "file to write the workload's duration to, in nanoseconds")
	case "check":
		acked = fs.String("acked", "", "file of acknowledged keys, written by rediswl write")
		quiet = fs.Duration("quiet", 0, "wait this long before reading: a failure detector a fault set off has fired by then")
	case "primary":
	default:
		fmt.Fprintln(stderr, usage)
		return errUsage
	}
	if err := fs.Parse(args[1:]); err != nil {
		return errUsage
	}
	if fs.NArg() > 0 || (acked != nil && *acked == "") {
		fmt.Fprintln(stderr, usage)
		return errUsage
	}
	cl := &cluster{sentinels: strings.Split(*sentinels, ","), master: *master, server: *server, log: stderr}
	switch cmd {
	case "ready":
		return cl.ready(*replicas, *strict, *wait)
	case "write":
		err := cl.write(*acked, *n, *timeout, *retry, *gap, *settle)
		if err == nil && *elapsed != "" {
			err = os.WriteFile(*elapsed, []byte(fmt.Sprintln(time.Since(started).Nanoseconds())), 0o666)
		}
		return err
	case "check":
		return cl.check(*acked, *quiet, *settle)
	default:
		addr, err := cl.primary()
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, addr)
		return nil
	}
}

// cluster is what the client knows of the system: the Sentinels.
type cluster struct {
	sentinels []string
	server    string // -server: the one server, when there are no Sentinels
	master    string
	log       io.Writer
}

// probe is the deadline of one command to a Sentinel, or of a readiness
// probe: short, because the answer is polled again.
const probe = time.Second

func (cl *cluster) logf(format string, args ...any) {
	fmt.Fprintf(cl.log, time.Now().Format("15:04:05.000")+" "+format+"\n", args...)
}

// oneShot runs one command on a fresh connection.
func oneShot(addr string, args ...string) (reply, error) {
	c, err := dial(addr, probe)
	if err != nil {
		return reply{}, err
	}
	defer c.Close()
	return c.do(args...)
}

// primary asks the Sentinels, in order, for the current primary.
func (cl *cluster) primary() (string, error) {
	if cl.server != "" {
		return cl.server, nil
	}
	var errs []error
	for _, s := range cl.sentinels {
		r, err := oneShot(s, "SENTINEL", "get-master-addr-by-name", cl.master)
		if err == nil && (r.null || len(r.arr) != 2) {
			err = fmt.Errorf("no primary known")
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("sentinel %s: %w", s, err))
			continue
		}
		return r.arr[0].str + ":" + r.arr[1].str, nil
	}
	return "", errors.Join(errs...)
}

// settled reports the current primary when the Sentinels agree on it: a
// majority of them answer, all that answer name the same address, none of
// them sees it down or is in a failover, and it answers as a master.
// Otherwise it says what is still moving.
func (cl *cluster) settled() (string, error) {
	if cl.server != "" {
		// One server: settled once it answers (it may be restarting).
		if _, err := oneShot(cl.server, "PING"); err != nil {
			return "", fmt.Errorf("server %s: %w", cl.server, err)
		}
		return cl.server, nil
	}
	addr, answered := "", 0
	for _, s := range cl.sentinels {
		r, err := oneShot(s, "SENTINEL", "master", cl.master)
		if err != nil {
			continue
		}
		m := r.fields()
		a := m["ip"] + ":" + m["port"]
		if flags := m["flags"]; flags != "master" {
			return "", fmt.Errorf("sentinel %s sees %s as %s", s, a, flags)
		}
		r, err = oneShot(s, "SENTINEL", "get-master-addr-by-name", cl.master)
		if err != nil || len(r.arr) != 2 {
			continue
		}
		a = r.arr[0].str + ":" + r.arr[1].str
		if addr != "" && a != addr {
			return "", fmt.Errorf("sentinels disagree: %s and %s", addr, a)
		}
		addr = a
		answered++
	}
	if answered <= len(cl.sentinels)/2 {
		return "", fmt.Errorf("only %d of %d sentinels answer", answered, len(cl.sentinels))
	}
	r, err := oneShot(addr, "INFO", "replication")
	if err != nil {
		return "", fmt.Errorf("primary %s: %w", addr, err)
	}
	if role := info(r.str)["role"]; role != "master" {
		return "", fmt.Errorf("primary %s says role %s", addr, role)
	}
	return addr, nil
}

// settle polls settled for up to max.
func (cl *cluster) settle(max time.Duration) (string, error) {
	start := time.Now()
	var last error
	for {
		addr, err := cl.settled()
		if err == nil {
			if waited := time.Since(start); waited > 200*time.Millisecond {
				cl.logf("settled on primary %s after %v", addr, waited.Round(time.Millisecond))
			}
			return addr, nil
		}
		if last == nil || err.Error() != last.Error() {
			cl.logf("settling: %v", err)
		}
		last = err
		if time.Since(start) > max {
			return "", fmt.Errorf("sentinels did not settle in %v: %w", max, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ready waits until the system can take the workload and survive a
// failover: the Sentinels agree on a primary, its replicas take its
// replication stream, and every Sentinel knows the primary, the replicas and
// the other Sentinels. After strict, a degraded system will do (a majority
// of Sentinels with quorum, at least one replica streaming): a fault injected
// during start-up should be judged by the check, not end the run unready.
//
// The traced servers see every probe, so ready keeps one connection per
// server, waits on the primary with WAIT instead of polling it, and polls
// the Sentinels slowly: the fewer probes, the fewer differences between
// runs that are only the probe's timing.
func (cl *cluster) ready(replicas int, strict, wait time.Duration) error {
	start := time.Now()
	p := pool{}
	defer p.close()
	var last error
	for {
		err := cl.readyOnce(p, replicas, true)
		if err == nil {
			cl.logf("ready after %v", time.Since(start).Round(time.Millisecond))
			return nil
		}
		if time.Since(start) > strict {
			if derr := cl.readyOnce(p, 1, false); derr == nil {
				cl.logf("ready (degraded: %v) after %v", err, time.Since(start).Round(time.Millisecond))
				return nil
			}
		}
		if time.Since(start) > wait {
			fmt.Fprintf(cl.log, "rediswl: not ready after %v: %v\n", wait, err)
			return errFailed
		}
		if last == nil || err.Error() != last.Error() {
			cl.logf("waiting: %v", err)
		}
		last = err
		if errors.Is(err, errRefused) {
			time.Sleep(50 * time.Millisecond) // not listening yet: no server sees this
		} else {
			time.Sleep(250 * time.Millisecond)
		}
	}
}

// errRefused marks a server that does not listen yet.
var errRefused = errors.New("not listening")

// errSilent marks a Sentinel that did not answer readyOnce's first question.
var errSilent = errors.New("no answer")

// pool holds one connection per server across readiness probes.
type pool map[string]*conn

func (p pool) do(addr string, args ...string) (reply, error) {
	c := p[addr]
	if c == nil {
		var err error
		if c, err = dial(addr, probe); err != nil {
			return reply{}, fmt.Errorf("%s: %w (%v)", addr, errRefused, err)
		}
		p[addr] = c
	}
	r, err := c.do(args...)
	var se serverError
	if err != nil && !errors.As(err, &se) {
		c.Close()
		delete(p, addr)
	}
	return r, err
}

func (p pool) close() {
	for _, c := range p {
		c.Close()
	}
}

// readyOnce checks readiness once; all means every Sentinel must answer
// and see all of its peers.
func (cl *cluster) readyOnce(p pool, replicas int, all bool) error {
	primary, err := cl.agreedPrimary(p, all)
	if err != nil {
		return err
	}
	if err := primaryStreams(p, primary, replicas); err != nil {
		return fmt.Errorf("primary %s: %w", primary, err)
	}
	for _, s := range cl.sentinels {
		err := cl.sentinelReady(p, s, primary, replicas, all)
		if err != nil && (all || !errors.Is(err, errSilent)) {
			return fmt.Errorf("sentinel %s: %w", s, err)
		}
	}
	return nil
}

// agreedPrimary asks the Sentinels for the primary: a majority must answer
// (with all, every one), and all that answer must agree.
func (cl *cluster) agreedPrimary(p pool, all bool) (string, error) {
	primary, answered := "", 0
	for _, s := range cl.sentinels {
		r, err := p.do(s, "SENTINEL", "get-master-addr-by-name", cl.master)
		if err == nil && len(r.arr) != 2 {
			err = fmt.Errorf("no primary")
		}
		if err != nil {
			if all {
				return "", fmt.Errorf("sentinel %s: %w", s, err)
			}
			continue
		}
		a := r.arr[0].str + ":" + r.arr[1].str
		if primary != "" && a != primary {
			return "", fmt.Errorf("sentinels disagree: %s and %s", primary, a)
		}
		primary = a
		answered++
	}
	if answered <= len(cl.sentinels)/2 {
		return "", fmt.Errorf("only %d of %d sentinels answer", answered, len(cl.sentinels))
	}
	return primary, nil
}

// primaryStreams checks that primary is a master whose replicas acknowledge
// its replication stream.
func primaryStreams(p pool, primary string, replicas int) error {
	r, err := p.do(primary, "ROLE")
	if err != nil {
		return err
	}
	if len(r.arr) == 0 || r.arr[0].str != "master" {
		return fmt.Errorf("no master")
	}
	// A PUBLISH goes down the replication stream like a write but changes
	// no data; WAIT returns once the replicas acknowledged it. INFO's
	// state=online is not enough: Redis 7 holds the stream back until a
	// new replica's first REPLCONF ACK, up to a second after it loaded the
	// snapshot.
	if _, err := p.do(primary, "PUBLISH", "__pain__:ready", "1"); err != nil {
		return err
	}
	if r, err = p.do(primary, "WAIT", strconv.Itoa(replicas), "3000"); err != nil {
		return err
	}
	if r.num < int64(replicas) {
		return fmt.Errorf("%d of %d replicas acknowledge its stream", r.num, replicas)
	}
	return nil
}

// sentinelReady checks that Sentinel s sees primary as the master, with
// its replicas linked and a quorum; with all, also that its peers are up.
// An error wrapping errSilent means s did not answer at all.
func (cl *cluster) sentinelReady(p pool, s, primary string, replicas int, all bool) error {
	r, err := p.do(s, "SENTINEL", "master", cl.master)
	if err != nil {
		return fmt.Errorf("%w: %w", errSilent, err)
	}
	f := r.fields()
	if a := f["ip"] + ":" + f["port"]; a != primary || f["flags"] != "master" {
		return fmt.Errorf("master %s flags %s", a, f["flags"])
	}
	if r, err = p.do(s, "SENTINEL", "replicas", cl.master); err != nil {
		return err
	}
	ok := 0
	for _, rep := range r.arr {
		f := rep.fields()
		if f["flags"] == "slave" && f["master-link-status"] == "ok" {
			ok++
		}
	}
	if ok < replicas {
		return fmt.Errorf("%d of %d replicas known and linked", ok, replicas)
	}
	if _, err := p.do(s, "SENTINEL", "ckquorum", cl.master); err != nil {
		return err
	}
	if !all {
		return nil
	}
	if r, err = p.do(s, "SENTINEL", "sentinels", cl.master); err != nil {
		return err
	}
	up := 0
	for _, peer := range r.arr {
		// master_down (a peer's stale vote, kept 5s) does not matter; a
		// peer that is down or unreachable does.
		flags := "," + peer.fields()["flags"] + ","
		if !strings.Contains(flags, ",s_down,") && !strings.Contains(flags, ",disconnected,") {
			up++
		}
	}
	if up < len(cl.sentinels)-1 {
		return fmt.Errorf("%d of %d other sentinels up", up, len(cl.sentinels)-1)
	}
	return nil
}

func key(i int) string   { return fmt.Sprintf("k%04d", i) }
func value(i int) string { return fmt.Sprintf("v%04d", i) }

// write is the workload. An acknowledged key goes to the file at once, so
// the record survives the workload being killed.
func (cl *cluster) write(path string, n int, timeout, retry, gap, settle time.Duration) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var c *conn
	defer func() {
		if c != nil {
			c.Close()
		}
	}()
	addr, acked, gaveUp := "", 0, 0
	for i := 1; i <= n; i++ {
		if gap > 0 && i > 1 {
			time.Sleep(gap)
		}
		deadline := time.Now().Add(retry)
		lastErr := ""
		for {
			if c == nil {
				addr, err = cl.primary()
				if err == nil {
					c, err = dial(addr, timeout)
				}
			}
			if err == nil {
				_, err = c.do("SET", key(i), value(i))
				if err == nil {
					break
				}
				c.Close()
				c = nil
			}
			if err.Error() != lastErr {
				cl.logf("SET %s at %s: %v", key(i), addr, err)
				lastErr = err.Error()
			}
			if time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil {
			gaveUp = n - i + 1
			cl.logf("giving up %d keys from %s", gaveUp, key(i))
			break
		}
		acked++
		if _, err := f.WriteString(key(i) + "\n"); err != nil {
			return err
		}
	}
	cl.logf("acknowledged %d of %d writes (last primary %s)", acked, n, addr)
	if _, err := cl.settle(settle); err != nil {
		cl.logf("%v", err)
	}
	return nil
}

// check reads every acknowledged key from the primary the Sentinels name,
// once they have settled after quiet. A primary that does not answer is
// asked again until settle has passed (a failover may still be under way);
// only then are the writes reported unreadable.
func (cl *cluster) check(path string, quiet, settle time.Duration) error {
	keys, err := readKeys(path)
	if err != nil {
		return err
	}
	if quiet > 0 {
		cl.logf("waiting %v for the failure detectors", quiet)
		time.Sleep(quiet)
	}
	deadline := time.Now().Add(settle)
	for {
		addr, vals, err := cl.read(keys, settle)
		if err == nil {
			return cl.judge(addr, keys, vals)
		}
		if time.Now().After(deadline) && cl.server != "" {
			// One server that stays down (Redis exits on purpose when an
			// fsync fails): nothing says whether it lost a write.
			fmt.Fprintf(cl.log, "check: cannot judge: the server does not answer: %v\n", err)
			return errCannotJudge
		}
		if time.Now().After(deadline) {
			fmt.Fprintf(cl.log, "check: %d acknowledged writes unreadable: %v\n", len(keys), err)
			return errFailed
		}
		cl.logf("%v; asking again", err)
		time.Sleep(500 * time.Millisecond)
	}
}

// read reads keys from the primary the Sentinels settle on (or, if they do
// not, the one they name).
func (cl *cluster) read(keys []string, settle time.Duration) (string, []reply, error) {
	addr, err := cl.settle(settle)
	if err != nil {
		// Read from whatever primary they name, if any: a failover that
		// never ends is itself a finding when writes become unreadable.
		cl.logf("%v", err)
		if addr, err = cl.primary(); err != nil {
			return "", nil, fmt.Errorf("no primary: %w", err)
		}
	}
	if len(keys) == 0 {
		return addr, nil, nil
	}
	c, err := dial(addr, 5*time.Second)
	var r reply
	if err == nil {
		r, err = c.do(append([]string{"MGET"}, keys...)...)
		c.Close()
	}
	if err == nil && len(r.arr) != len(keys) {
		err = fmt.Errorf("MGET returned %d values for %d keys", len(r.arr), len(keys))
	}
	if err != nil {
		return "", nil, fmt.Errorf("primary %s: %w", addr, err)
	}
	return addr, r.arr, nil
}

// judge compares what the primary at addr holds with the acknowledged keys.
func (cl *cluster) judge(addr string, keys []string, vals []reply) error {
	if len(keys) == 0 {
		fmt.Fprintf(cl.log, "check: no acknowledged writes to verify (primary %s)\n", addr)
		return nil
	}
	var lost []string
	for i, k := range keys {
		if vals[i].null || "v"+k[1:] != vals[i].str {
			lost = append(lost, k)
		}
	}
	if len(lost) > 0 {
		fmt.Fprintf(cl.log, "check: primary %s lost %d of %d acknowledged writes: %s\n", addr, len(lost), len(keys), strings.Join(lost, " "))
		return errFailed
	}
	fmt.Fprintf(cl.log, "check: all %d acknowledged writes readable on primary %s\n", len(keys), addr)
	return nil
}

func readKeys(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var keys []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k := strings.TrimSpace(sc.Text())
		if len(k) < 2 || k[0] != 'k' {
			return nil, fmt.Errorf("%s: not a key: %q", path, k)
		}
		if _, err := strconv.Atoi(k[1:]); err != nil {
			return nil, fmt.Errorf("%s: not a key: %q", path, k)
		}
		keys = append(keys, k)
	}
	return keys, sc.Err()
}
