package batch_test

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/prereq"
	"github.com/boxofpain/pain/internal/testenv"
)

// The repository root (round.sh runs from it) and the tools, built once.
var (
	root = mustAbs("../..")
	bin  string
)

func mustAbs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		panic(err)
	}
	return a
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "pain-batch-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	bin = dir
	// munged, slurmctld and slurmd live in /usr/sbin, not always in PATH.
	os.Setenv("PATH", os.Getenv("PATH")+":/usr/sbin:/sbin")
	code := 2
	if err := testenv.Build(dir, "./cmd/...", "./examples/kvstore/cmd/..."); err != nil {
		fmt.Fprintln(os.Stderr, err)
	} else {
		code = m.Run()
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// need skips the test when a program is missing, and fails it in CI, where
// scripts/deps.sh has installed everything.
func need(t testing.TB, progs ...string) {
	t.Helper()
	prereq.Root(t, "-netns (CAP_SYS_ADMIN)")
	for _, p := range progs {
		prereq.Command(t, p)
	}
}

// round is what a round left: its schedules summary, plans and results.
type round struct {
	schedules, plans string
	allAtOnce        string // pain-track's summary of all the round's runs at once
	results          []format.Result
}

// Small rounds for the tests: every top plan of the store is an errno, a
// drop or a crash at a system call, so its verdict does not depend on timing.
const (
	testRuns  = 6
	testPlans = 8
)

// runRound runs scripts/batch/round.sh with env added, tagging every
// process it starts with a mark, and checks that none is left afterwards.
func runRound(t testing.TB, out string, runs, plans int, env ...string) round {
	t.Helper()
	mark := "PAIN_BATCH_TEST=" + filepath.Base(out) + "-" + rand.Text()
	cmd := exec.Command("scripts/batch/round.sh")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), append(env, mark, "OUT="+out, "BIN="+bin,
		fmt.Sprintf("RUNS=%d", runs), fmt.Sprintf("PLANS=%d", plans),
		"SYSTEM=scripts/batch/kvstore.args")...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	waitNone(t, mark)
	if err != nil {
		t.Fatalf("round.sh %v: %v\nstdout:\n%s\nstderr:\n%s", env, err, stdout.String(), stderr.String())
	}
	t.Logf("round.sh %v:\n%s", env, stderr.String())
	var r round
	r.schedules = read(t, filepath.Join(out, "schedules.txt"))
	runFiles, _ := filepath.Glob(filepath.Join(out, "runs", "run-*.arrows"))
	all, err := exec.Command(filepath.Join(bin, "pain-track"), runFiles...).Output()
	if err != nil {
		t.Fatalf("pain-track on the runs: %v", err)
	}
	r.allAtOnce = string(all)
	r.plans = read(t, filepath.Join(out, "plans.jsonl"))
	f, err := os.Open(filepath.Join(out, "results.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if r.results, err = format.ReadResults(f, "results.jsonl"); err != nil {
		t.Fatal(err)
	}
	return r
}

func read(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// waitNone waits until no process carries mark in its environment: the
// processes of a run (and their network namespaces) go with the run, but
// a Slurm step may take a moment to be reaped.
func waitNone(t testing.TB, mark string) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); {
		if len(testenv.Marked(mark)) == 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	pids := testenv.Marked(mark)
	for _, pid := range pids {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	t.Errorf("processes %v outlived the round (%s)", pids, mark)
}

// serial is the reference round, run once (one job at a time, all runs
// tracked at once).
var serial *round

func serialRound(t *testing.T) round {
	t.Helper()
	if serial == nil {
		r := runRound(t, filepath.Join(t.TempDir(), "serial"), testRuns, testPlans, "ENGINE=serial", "JOBS=1")
		serial = &r
	}
	return *serial
}

// sameRound checks a batch round against the serial one. The two rounds
// traced different runs of a real system, which now and then takes a rare
// schedule (a read split in two under load), and a rare schedule adds
// plans of its own. So: the batch round's schedules, tracked in shards and
// merged, must be exactly those of tracking its runs at once; its most
// frequent schedule must be the serial round's; most of its plans must be
// the serial round's, and every plan the two rounds share must have the
// same result (verdict, check status, and the node, thread and system call
// where it fired: the seq of a Go program's call varies by a retried read
// from run to run). The verdict of a fault that lasts a while (a pause, a
// delay, a restart after a crash) depends on timing, which two rounds that
// share the machine differently do not share: the store's primary waits 2s
// for a backup, and a backup paused for 6s at its first write was a bug in
// the parallel round and survived in the serial one (load about 6). Such a
// plan must fire where the serial round's did, and its verdict is not
// compared.
func sameRound(t *testing.T, got, want round) {
	t.Helper()
	if got.schedules != got.allAtOnce {
		t.Errorf("shards merged:\n%s\nall runs at once:\n%s", got.schedules, got.allAtOnce)
	}
	if g, w := topSchedule(t, got.schedules), topSchedule(t, want.schedules); g != w {
		t.Errorf("most frequent schedule %s, in the serial round %s:\n%s\nwant:\n%s", g, w, got.schedules, want.schedules)
	}
	gotFaults, wantFaults := faults(t, got.plans), faults(t, want.plans)
	wants := map[string]format.Result{}
	for _, w := range want.results {
		wants[w.Plan] = stable(w)
	}
	shared, verdicts := 0, map[string]int{}
	for _, g := range got.results {
		w, ok := wants[g.Plan]
		if !ok {
			continue
		}
		shared++
		verdicts[g.Verdict]++
		if !reflect.DeepEqual(gotFaults[g.Plan], wantFaults[g.Plan]) {
			t.Errorf("plan %s: faults %+v, in the serial round %+v", g.Plan, gotFaults[g.Plan], wantFaults[g.Plan])
		}
		g := stable(g)
		if timed(wantFaults[g.Plan]) {
			g.Verdict, g.Check, w.Verdict, w.Check = "", nil, "", nil
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("plan %s: got %+v, the serial round %+v", g.Plan, g, w)
		}
	}
	if 2*shared <= len(want.results) {
		t.Errorf("only %d of the %d plans of the serial round were planned again:\n%s\nwant:\n%s", shared, len(want.results), got.plans, want.plans)
	}
	t.Logf("%d plans shared with the serial round, with the same results: verdicts %v", shared, verdicts)
}

// timed reports whether a fault of fs lasts a while, so that its verdict
// depends on timing.
func timed(fs []format.Fault) bool {
	return slices.ContainsFunc(fs, func(f format.Fault) bool { return f.Duration != 0 })
}

var topLine = regexp.MustCompile(`(?m)^ +1  ([0-9a-f]+) `)

// topSchedule returns the id of the schedule ranked first in a summary.
func topSchedule(t *testing.T, summary string) string {
	t.Helper()
	m := topLine.FindStringSubmatch(summary)
	if m == nil {
		t.Fatalf("no ranked schedule in\n%s", summary)
	}
	return m[1]
}

// faults returns each plan's faults by plan id: the "why" of a plan
// quotes event numbers of the run that represents its schedule.
func faults(t *testing.T, plans string) map[string][]format.Fault {
	t.Helper()
	ps, err := format.ReadPlans(strings.NewReader(plans), "plans.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][]format.Fault{}
	for _, p := range ps {
		m[p.ID] = p.Faults
	}
	return m
}

// stable is r without what differs between two runs that did the same.
func stable(r format.Result) format.Result {
	// Run names the injected trace by its start time, and the check's
	// own output says which backup it promoted: neither is the verdict.
	r.Trace, r.WallMS, r.Run, r.CheckOutput = "", 0, "", ""
	r.Where = slices.Clone(r.Where)
	for i := range r.Where {
		r.Where[i].Seq, r.Where[i].TimeNS = 0, 0
	}
	return r
}

// TestRoundParallel runs a round through GNU parallel, two jobs at once,
// each run in its own network namespace on the store's fixed ports.
func TestRoundParallel(t *testing.T) {
	need(t, "parallel", "jq")
	want := serialRound(t)
	got := runRound(t, filepath.Join(t.TempDir(), "parallel"), testRuns, testPlans, "ENGINE=parallel", "JOBS=2")
	sameRound(t, got, want)
}

// TestRoundSlurm brings up a one-node Slurm cluster on localhost (munged,
// slurmctld and slurmd from Debian, with a configuration of the test's
// own) and runs a round through its job arrays, two tasks at once.
func TestRoundSlurm(t *testing.T) {
	need(t, "parallel", "jq", "munged", "slurmctld", "slurmd", "sbatch", "squeue")
	want := serialRound(t)
	conf := startSlurm(t)
	got := runRound(t, filepath.Join(t.TempDir(), "slurm"), testRuns, testPlans, "ENGINE=slurm", "JOBS=2", "SLURM_CONF="+conf)
	sameRound(t, got, want)
}

const slurmConf = `ClusterName=pain
SlurmctldHost=localhost
SlurmctldPort=%[2]d
SlurmdPort=%[3]d
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=%[1]s/munge.sock
StateSaveLocation=%[1]s/state
SlurmdSpoolDir=%[1]s/spool
SlurmctldPidFile=%[1]s/slurmctld.pid
SlurmdPidFile=%[1]s/slurmd.pid
SlurmctldLogFile=%[1]s/slurmctld.log
SlurmdLogFile=%[1]s/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/builtin
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
MpiDefault=none
ReturnToService=2
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
SwitchType=switch/none
PlugStackConfig=/dev/null
NodeName=localhost NodeHostname=localhost NodeAddr=127.0.0.1 CPUs=%[4]d State=UNKNOWN
PartitionName=pain Nodes=ALL Default=YES MaxTime=INFINITE State=UP
`

// startSlurm starts munged, slurmctld and slurmd in the foreground as
// children of the test, with a key, a configuration and folders of their
// own, waits until the node is idle, and returns the configuration's path.
// At cleanup it cancels what is left in the queue, stops the daemons by
// PID and checks that no process they started is left.
func startSlurm(t testing.TB) string {
	t.Helper()
	// munged wants its socket's folder open to all; t.TempDir's is not.
	dir, err := os.MkdirTemp("", "pain-slurm-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o711)
	for _, d := range []string{"state", "spool"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "munge.key"), []byte(rand.Text()+rand.Text()+rand.Text()), 0o600); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "slurm.conf")
	ports := testenv.FreePorts(t, 2)
	text := fmt.Sprintf(slurmConf, dir, ports[0], ports[1], runtime.NumCPU())
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	mark := "PAIN_SLURM_TEST=" + dir
	env := append(os.Environ(), "SLURM_CONF="+conf, mark)
	var daemons []*exec.Cmd
	t.Cleanup(func() { stopSlurm(t, conf, dir, mark, daemons) })
	start := func(argv ...string) {
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Env = env
		log, err := os.Create(filepath.Join(dir, filepath.Base(argv[0])+".out"))
		if err != nil {
			t.Fatal(err)
		}
		defer log.Close()
		cmd.Stdout, cmd.Stderr = log, log
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		daemons = append(daemons, cmd)
	}
	start("munged", "-F", "--key-file="+dir+"/munge.key", "--socket="+dir+"/munge.sock",
		"--pid-file="+dir+"/munged.pid", "--log-file="+dir+"/munged.log", "--seed-file="+dir+"/munged.seed")
	waitFor(t, dir, "munged's socket", func() bool {
		_, err := os.Stat(filepath.Join(dir, "munge.sock"))
		return err == nil
	})
	start("slurmctld", "-D", "-i", "-f", conf)
	start("slurmd", "-D", "-f", conf, "-N", "localhost")
	waitFor(t, dir, "the Slurm node to be idle", func() bool {
		out, _ := slurmCmd(conf, "sinfo", "-h", "-o", "%t").Output()
		return strings.TrimSpace(string(out)) == "idle"
	})
	return conf
}

func slurmCmd(conf string, argv ...string) *exec.Cmd {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "SLURM_CONF="+conf)
	return cmd
}

// waitFor polls cond until it holds; after a minute it fails the test with
// the daemons' logs.
func waitFor(t testing.TB, dir, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); {
		if cond() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	outs, _ := filepath.Glob(filepath.Join(dir, "*.out"))
	for _, l := range append(logs, outs...) {
		b, _ := os.ReadFile(l)
		t.Logf("%s:\n%s", l, b)
	}
	t.Fatalf("gave up waiting for %s", what)
}

// stopSlurm cancels the cluster's jobs, waits until the queue is empty,
// stops the daemons (SIGTERM, then SIGKILL) and checks that nothing they
// started is left.
func stopSlurm(t testing.TB, conf, dir, mark string, daemons []*exec.Cmd) {
	if len(daemons) == 3 {
		slurmCmd(conf, "scancel", "--partition=pain").Run()
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
			out, err := slurmCmd(conf, "squeue", "-h", "-o", "%i").Output()
			if err == nil && len(bytes.TrimSpace(out)) == 0 {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if out, _ := slurmCmd(conf, "squeue", "-h", "-o", "%i %T").Output(); len(bytes.TrimSpace(out)) > 0 {
			t.Errorf("Slurm jobs left in the queue:\n%s", out)
		}
	}
	for i := len(daemons) - 1; i >= 0; i-- {
		d := daemons[i]
		d.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { d.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Errorf("%s did not stop on SIGTERM: killed", d.Path)
			syscall.Kill(-d.Process.Pid, syscall.SIGKILL)
			<-done
		}
	}
	waitNone(t, mark)
}

// BenchmarkRound measures runs per minute (traced and injected) for a
// round of the embedded store through each engine, with 1 and 2 jobs at
// once:
//
//	go test -run X -bench Round -benchtime 1x ./scripts/batch
func BenchmarkRound(b *testing.B) {
	need(b, "parallel", "jq", "munged", "slurmctld", "slurmd", "sbatch", "squeue")
	const runs, plans = 30, 20
	conf := startSlurm(b) // idle while the other engines run
	for _, engine := range []string{"serial", "parallel", "slurm"} {
		for _, jobs := range []int{1, 2} {
			if engine == "serial" && jobs > 1 {
				continue
			}
			b.Run(fmt.Sprintf("%s-%d", engine, jobs), func(b *testing.B) {
				env := []string{"ENGINE=" + engine, fmt.Sprintf("JOBS=%d", jobs)}
				if engine == "slurm" {
					env = append(env, "SLURM_CONF="+conf)
				}
				n := 0
				for b.Loop() {
					r := runRound(b, filepath.Join(b.TempDir(), engine), runs, plans, env...)
					n += runs + len(r.results)
				}
				b.ReportMetric(float64(n)/b.Elapsed().Minutes(), "runs/min")
			})
		}
	}
}
