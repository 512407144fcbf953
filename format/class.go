package format

import (
	"fmt"
	"strconv"
	"strings"
)

// ClassUntied is the tag of a message class tied to no workload request.
const ClassUntied = "-"

// ParseClass reads a message class name as a plan's Target.Class holds it:
// "CONN -> TAG" (sent by the connecting end) or "CONN <- TAG" (by the
// listening end), TAG being w<k> (tied to the workload's k-th request) or
// ClassUntied. Package msgclass names classes this way.
func ParseClass(s string) (conn string, back bool, tag string, err error) {
	for _, a := range []string{" -> ", " <- "} {
		conn, tag, ok := strings.Cut(s, a)
		if !ok {
			continue
		}
		if conn == "" || strings.ContainsAny(conn, " \t") || !validTag(tag) {
			break
		}
		return conn, a == " <- ", tag, nil
	}
	return "", false, "", fmt.Errorf("class %q is not \"CONN -> TAG\" or \"CONN <- TAG\" (TAG w<k> or -)", s)
}

func validTag(t string) bool {
	if t == ClassUntied {
		return true
	}
	k, err := strconv.Atoi(strings.TrimPrefix(t, "w"))
	return strings.HasPrefix(t, "w") && err == nil && k > 0
}
