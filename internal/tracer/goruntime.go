//go:build linux && amd64

package tracer

import (
	"debug/elf"
	"strconv"
)

// goRuntime reports whether the program process pid runs moves its work
// between OS threads at will, so that per-thread names would differ from
// run to run: a Go program (its executable has the .go.buildinfo section
// every Go linker since 1.13 writes, stripped or not), or a JVM (the java
// launcher, which needs libjli.so, or a program that links libjvm.so).
// Answers are remembered by the executable's path.
func (t *Tracer) goRuntime(pid int, path string) bool {
	if v, ok := t.goPaths[path]; ok && path != "" {
		return v
	}
	f, err := elf.Open("/proc/" + strconv.Itoa(pid) + "/exe")
	if err != nil {
		return false
	}
	defer f.Close()
	v := f.Section(".go.buildinfo") != nil || jvm(f)
	if path != "" {
		t.goPaths[path] = v
	}
	return v
}

// jvm reports whether executable f starts a JVM.
func jvm(f *elf.File) bool {
	libs, _ := f.ImportedLibraries()
	for _, l := range libs {
		if l == "libjli.so" || l == "libjvm.so" {
			return true
		}
	}
	return false
}

// execedProgram decides, once process p has exec'd program path, whether
// its threads are named as one (Config.ProcessThreads, or
// Config.AutoThreads and a Go program or a JVM).
func (t *Tracer) execedProgram(p *process, path string) {
	p.merged = t.cfg.ProcessThreads || t.cfg.AutoThreads && t.goRuntime(p.tgid, path)
}
