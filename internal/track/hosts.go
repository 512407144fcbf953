package track

import (
	"errors"
	"strings"

	"github.com/boxofpain/pain/format"
)

// hostNames names the ends of the connections between the hosts of a run
// traced in parts. A tracer names a peer it did not trace by its raw
// address, so for one connection host A writes
// "198.18.0.2:53980>primary:listen0" where host B writes
// "workload:main:s0>198.18.0.1:7101". The rows that open a connection
// (connect, accept) carry both raw addresses, the same pair on both hosts,
// so the pair joins the stable end each host knows; every row of the
// connection then gets the name a single tracer would have given it
// ("workload:main:s0>primary:listen0"), and its peer the other end's name.
// Clocks play no part.
type hostNames struct {
	ends  map[[2]string]*[2]string // (connecting, listening) address -> stable names, "" if unknown
	conns map[string][2]string     // a conn name with a raw end -> its address pair
}

func newHostNames() *hostNames {
	return &hostNames{ends: map[[2]string]*[2]string{}, conns: map[string][2]string{}}
}

// learn notes what one row says about its connection's ends.
func (h *hostNames) learn(e *format.Event) {
	if e.Conn == "" || e.LocalAddr == "" || e.PeerAddr == "" {
		return
	}
	x, y, ok := strings.Cut(e.Conn, ">")
	if !ok {
		return
	}
	var pair [2]string
	switch e.PeerAddr {
	case x: // the peer connected: it is the raw connecting end
		pair = [2]string{e.PeerAddr, e.LocalAddr}
	case y: // the peer listens
		pair = [2]string{e.LocalAddr, e.PeerAddr}
	default:
		return // both ends have stable names already
	}
	h.conns[e.Conn] = pair
	ends := h.ends[pair]
	if ends == nil {
		ends = &[2]string{}
		h.ends[pair] = ends
	}
	if x != pair[0] {
		ends[0] = x
	}
	if y != pair[1] {
		ends[1] = y
	}
}

// rename gives e's connection and peer their stable names when another
// part of the run knew the end this part did not.
func (h *hostNames) rename(e *format.Event) {
	pair, ok := h.conns[e.Conn]
	if !ok {
		return
	}
	ends := h.ends[pair]
	x, y, _ := strings.Cut(e.Conn, ">")
	nx, ny := x, y
	if x == pair[0] && ends[0] != "" {
		nx = ends[0]
	}
	if y == pair[1] && ends[1] != "" {
		ny = ends[1]
	}
	switch e.Peer {
	case x:
		e.Peer = nx
	case y:
		e.Peer = ny
	}
	e.Conn = nx + ">" + ny
}

// withAddrs are the columns the first pass over the parts of a run reads.
var withAddrs = needed | format.ColumnBit("local_addr") | format.ColumnBit("peer_addr")

// learnHosts reads every part of a run once for the raw addresses of the
// connections between them.
func (t *tracker) learnHosts(paths []string) (*hostNames, error) {
	h := newHostNames()
	for _, path := range paths {
		if err := t.learnPart(h, path); err != nil {
			return nil, err
		}
	}
	return h, nil
}

func (t *tracker) learnPart(h *hostNames, path string) error {
	err := t.eachRows(path, withAddrs, func(evs []format.Event) {
		for i := range evs {
			h.learn(&evs[i])
		}
	})
	if errors.Is(err, format.ErrTruncated) {
		return nil // addRows warns about a cut trace
	}
	return err
}
