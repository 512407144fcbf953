package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/hb"
)

func main() {
	_, evs, err := format.ReadFile(os.Args[1])
	if err != nil {
		panic(err)
	}
	b := hb.NewBuilder(hb.Syscall)
	for i := range evs {
		b.Add(&evs[i])
	}
	g := b.Graph("x")
	ms := g.Classes()
	for i, e := range g.Events {
		if !strings.Contains(e.Conn, os.Args[2]) && !(e.Node == os.Args[2]) {
			continue
		}
		fmt.Printf("%12d %s/%s #%d %s conn=%s off=%d ret=%d fault=%v msg=%s\n", e.TimeNS, e.Node, e.Thread, e.Seq, e.Syscall, e.Conn, e.Offset, e.Ret, e.Fault, ms[i].String())
	}
}
