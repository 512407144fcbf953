// Package report makes the one HTML page of a round (pain-report): the
// round at a glance, the ranked schedules with their space-time diagrams,
// every plan tried and every bug, from the round's files.
//
// Load reads the files into Sources (the only I/O); Build turns Sources
// into a Model, a pure function; Render writes the Model through
// html/template as one self-contained page: styles, script and pictures
// (SVG) inline, nothing fetched, so it opens offline years later.
//
// Counts the page shows carry data-count attributes (the browser test
// compares them with results.jsonl), plan rows data-verdict.
package report
