package format

import "testing"

func TestNodeRole(t *testing.T) {
	for n, want := range map[string]string{"workload": NodeWorkload, "workload/kvload.1": NodeWorkload, "check": NodeCheck,
		"check/sh.2/x": NodeCheck, "workloadx": RoleSystem, "kv1": RoleSystem, "kv1/workload": RoleSystem, "": RoleSystem} {
		if got := NodeRole(n); got != want {
			t.Errorf("NodeRole(%q) = %s, want %s", n, got, want)
		}
	}
}
