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

func TestTopNode(t *testing.T) {
	for n, want := range map[string]string{"kv1": "kv1", "client/worker.1": "client", "workload/sh.2/kvload.3": "workload", "": ""} {
		if got := TopNode(n); got != want {
			t.Errorf("TopNode(%q) = %q, want %q", n, got, want)
		}
	}
}
