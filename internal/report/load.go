package report

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/hb"
	"github.com/boxofpain/pain/internal/track"
)

// Files name a round's files.
type Files struct {
	Schedules string   // the schedules file (pain-track -o)
	Plans     []string // plans files (pain-plan -o, -shrink)
	Results   []string // results files (pain-inject's lines)
	Traces    []string // fault-free traces: their metadata says what ran
	Out       string   // the page: links are made relative to its folder
	Title     string
	Top       int
}

// Load reads the files of a round. A file named in Files that cannot be
// read is an error naming it; a trace a result names that is not found
// (the round's folder moved without it) is noted on the page instead.
func Load(f Files) (*Sources, error) {
	src := &Sources{Title: f.Title, Top: f.Top, Injected: map[string]*Injected{}}
	if f.Schedules != "" {
		s, err := format.ReadSchedules(f.Schedules)
		if err != nil {
			return nil, err
		}
		src.Schedules = s
	}
	for _, p := range f.Plans {
		ps, err := readJSONL(p, format.ReadPlans)
		if err != nil {
			return nil, err
		}
		src.Plans = append(src.Plans, ps...)
	}
	if len(f.Plans) > 0 {
		src.PlansFile = f.Plans[0]
	}
	for _, p := range f.Results {
		rs, err := readJSONL(p, format.ReadResults)
		if err != nil {
			return nil, err
		}
		src.Results = append(src.Results, rs...)
		if err := src.injected(rs, p, f); err != nil {
			return nil, err
		}
	}
	for _, p := range f.Traces {
		m, err := traceMeta(p)
		if err != nil {
			return nil, err
		}
		src.Runs = append(src.Runs, m)
	}
	return src, nil
}

func readJSONL[T any](path string, read func(r io.Reader, name string) ([]T, error)) ([]T, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return read(bytes.NewReader(b), path)
}

func traceMeta(path string) (format.Meta, error) {
	r, err := os.Open(path)
	if err != nil {
		return format.Meta{}, err
	}
	defer r.Close()
	t, err := format.OpenTrace(r, path)
	if err != nil {
		return format.Meta{}, err
	}
	defer t.Close()
	return t.Meta(), nil
}

// injected reads the traces of the results of one results file whose
// verdict matters to the page: every one's metadata, and for bugs the
// graph and the Perfetto file.
func (src *Sources) injected(rs []format.Result, resultsFile string, f Files) error {
	gran := hb.Message
	if src.Schedules != nil {
		gran, _ = hb.ParseGranularity(src.Schedules.Granularity)
	}
	for _, r := range rs {
		if r.Trace == "" || src.Injected[r.Trace] != nil {
			continue
		}
		path := find(r.Trace, filepath.Dir(resultsFile))
		if path == "" {
			src.Missing = append(src.Missing, fmt.Sprintf("%s: trace %s not found", resultsFile, r.Trace))
			continue
		}
		m, err := traceMeta(path)
		if err != nil {
			return err
		}
		in := &Injected{Meta: m, Link: link(path, f.Out)}
		src.Injected[r.Trace] = in
		if r.Verdict != format.VerdictBug {
			continue
		}
		g, err := track.RunGraph(gran, []string{path})
		if err != nil {
			src.Missing = append(src.Missing, err.Error())
			continue
		}
		in.Graph = g
		var b bytes.Buffer
		title := fmt.Sprintf("plan %s: %s", r.Plan, strings.Join(r.Faults, "; and "))
		if err := track.WritePerfetto(&b, g, title, []string{path}); err != nil {
			return err
		}
		in.Perfetto = b.Bytes()
	}
	return nil
}

// find looks for a trace a result names: as written (from where the round
// ran), then under the results file's folder with the path's leading
// folders taken off one by one (the round's folder moved or copied).
func find(trace, dir string) string {
	if _, err := os.Stat(trace); err == nil {
		return trace
	}
	parts := strings.Split(filepath.ToSlash(trace), "/")
	for i := range parts {
		p := filepath.Join(dir, filepath.Join(parts[i:]...))
		if _, err := os.Stat(p); err == nil {
			return p
		} else if !errors.Is(err, os.ErrNotExist) {
			return ""
		}
	}
	return ""
}

// link is path as the page at out links it: relative to out's folder.
func link(path, out string) string {
	base := "."
	if out != "" {
		base = filepath.Dir(out)
	}
	ap, err1 := filepath.Abs(path)
	ab, err2 := filepath.Abs(base)
	if err1 != nil || err2 != nil {
		return filepath.ToSlash(path)
	}
	rel, err := filepath.Rel(ab, ap)
	if err != nil {
		return filepath.ToSlash(ap)
	}
	return filepath.ToSlash(rel)
}
