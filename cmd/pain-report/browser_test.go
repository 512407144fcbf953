package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/prereq"
	"github.com/boxofpain/pain/internal/testenv"
)

// TestBrowser runs a small real round of the embedded store as make demo
// does (scripts/demo.sh: 3 traced runs, 10 plans, of which the eighth, a
// pause of a backup past the primary's timeout, and the tenth, a drop of
// the backup's answer, lose a write: the drop does so whatever the timing,
// and one round in a loaded make test found no bug with 8), opens its
// report.html in headless Chromium
// (Debian's chromium, from scripts/deps.sh) and checks that the page's
// script ran to its end with no console message (an uncaught exception or
// console.error is one), that the counts it shows equal those of
// results.jsonl, and that every plan tried has its row. It leaves a
// screenshot in out/report-browser.png.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a round of the store")
	}
	chromium := prereq.Command(t, "chromium")
	prereq.Command(t, "jq") // the demo script needs it
	if os.Getuid() != 0 {
		if b, err := os.ReadFile("/proc/sys/kernel/yama/ptrace_scope"); err == nil && strings.TrimSpace(string(b)) > "1" {
			prereq.Missing(t, "ptrace is not allowed here (kernel.yama.ptrace_scope > 1)")
		}
	}
	tools := testenv.Tools(t, "./cmd/...", "./examples/kvstore/cmd/...")
	out := filepath.Join(t.TempDir(), "demo")
	demo := exec.Command("bash", "../../scripts/demo.sh")
	demo.Env = append(os.Environ(), "OUT="+out, "BIN="+tools, "RUNS=3", "PLANS=10", "PORTS="+ports(t, 3))
	var stdout, stderr bytes.Buffer
	demo.Stdout, demo.Stderr = &stdout, &stderr
	if err := demo.Run(); err != nil {
		t.Fatalf("demo: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	page := filepath.Join(out, "report.html")
	if !strings.Contains(stdout.String(), "Report: "+page) {
		t.Errorf("the demo did not print the report's path:\n%s", stdout.String())
	}
	dom, console := browse(t, chromium, "--dump-dom", page)
	if console != "" {
		t.Errorf("console messages:\n%s", console)
	}
	if !strings.Contains(dom, `data-ready="1"`) {
		t.Errorf("the page's script did not run to its end")
	}
	checkCounts(t, dom, filepath.Join(out, "results.jsonl"))
	shot, err := filepath.Abs("../../out/report-browser.png")
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Dir(shot), 0o755)
	browse(t, chromium, "--screenshot="+shot, page)
	if st, err := os.Stat(shot); err != nil || st.Size() == 0 {
		t.Errorf("no screenshot: %v", err)
	}
	t.Logf("screenshot: %s", shot)
}

// browse runs headless Chromium on the page with flag (--dump-dom, or
// --screenshot=FILE) and returns its stdout and the console messages it
// logged.
func browse(t *testing.T, chromium, flag, page string) (string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// Root needs --no-sandbox; a profile of its own keeps runs apart.
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
		"--user-data-dir="+t.TempDir(), "--enable-logging=stderr", "--v=0", "--window-size=1280,2400", flag, "file://"+page)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\n%s", flag, err, stderr.String())
	}
	var console []string
	for _, l := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(l, ":CONSOLE") {
			console = append(console, l)
		}
	}
	return stdout.String(), strings.Join(console, "\n")
}

var countAttr = regexp.MustCompile(`id="n-([a-z]+)" data-count="(\d+)"`)

// checkCounts compares the counts the page shows with results.jsonl's.
func checkCounts(t *testing.T, dom, resultsFile string) {
	t.Helper()
	f, err := os.Open(resultsFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	results, err := format.ReadResults(f, resultsFile)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"tried": len(results)}
	for _, r := range results {
		if r.Fired {
			want["fired"]++
		}
		switch r.Verdict {
		case format.VerdictBug:
			want["bugs"]++
		case format.VerdictSurvived:
			want["survived"]++
		case format.VerdictNotFired:
			want["notfired"]++
		}
	}
	got := map[string]int{}
	for _, m := range countAttr.FindAllStringSubmatch(dom, -1) {
		got[m[1]], _ = strconv.Atoi(m[2])
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("the page shows %d %s, results.jsonl %d", got[k], k, n)
		}
	}
	for _, r := range results {
		row := fmt.Sprintf(`<tr class="plan" data-verdict="%s" data-plan="%s">`, r.Verdict, r.Plan)
		if !strings.Contains(dom, row) {
			t.Errorf("no row %s", row)
		}
		if r.Verdict == format.VerdictBug && !strings.Contains(dom, fmt.Sprintf(`data-bug="%s"`, r.Plan)) {
			t.Errorf("bug %s not shown", r.Plan)
		}
	}
	if want["bugs"] == 0 {
		t.Errorf("the round found no bug: nothing of the bugs' part was seen")
	}
	t.Logf("page and results agree: %v", want)
}

// ports returns n free ports as demo.sh takes them: "P1 P2 P3".
func ports(t *testing.T, n int) string {
	t.Helper()
	var ps []string
	for _, p := range testenv.FreePorts(t, n) {
		ps = append(ps, strconv.Itoa(p))
	}
	return strings.Join(ps, " ")
}
