package format

//go:generate go run ./internal/mkerrno -o zerrno.go

import "strconv"

// ErrnoName returns the name of Linux errno e ("ECONNREFUSED"), or "E"
// and its number for one the table does not know. Traces and plans name
// errnos this way.
func ErrnoName(e int) string {
	if n, ok := errnoNames[e]; ok {
		return n
	}
	return "E" + strconv.Itoa(e)
}

// Errno returns the number of an errno name, aliases included
// (EWOULDBLOCK is EAGAIN), and whether there is such an errno.
func Errno(name string) (int, bool) {
	e, ok := errnoNumbers[name]
	return e, ok
}

var errnoNumbers = func() map[string]int {
	m := make(map[string]int, len(errnoNames)+len(errnoAliases))
	for e, n := range errnoNames {
		m[n] = e
	}
	for n, e := range errnoAliases {
		m[n] = e
	}
	return m
}()
