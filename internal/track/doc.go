// Package track is what pain-track does: it reads traces (Arrow or text
// form, through format.OpenTrace) and schedules files, builds each run's
// happens-before graph (hb) and adds it to a schedule.Set, and writes the
// results: the schedules file, the ranked summary in text or JSON, and
// pictures of the top schedules (Graphviz and Perfetto).
//
// Files:
//   - track.go: the tracker, one run at a time; run identity (distinct:
//     parts of one run versus copies and runs under one name)
//   - hosts.go: the parts of a run traced on several hosts, their
//     connections named across hosts by raw addresses, never clocks
//   - summary.go: the text and JSON summaries
//   - dot.go, perfetto.go: the pictures
//   - run.go: Run, what the command's flags ask for
package track
