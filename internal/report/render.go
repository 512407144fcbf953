package report

import (
	"bytes"
	_ "embed"
	"html/template"
	"io"
	"strings"
)

//go:embed report.html.tmpl
var page string

var tmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	// class makes a verdict a CSS class name ("not tried" -> not-tried).
	"class": func(s string) string { return strings.ReplaceAll(s, " ", "-") },
}).Parse(page))

// Render writes the page of m. It is written whole into memory first, so
// a template error leaves w untouched.
func Render(w io.Writer, m *Model) error {
	var b bytes.Buffer
	if err := tmpl.Execute(&b, m); err != nil {
		return err
	}
	_, err := w.Write(b.Bytes())
	return err
}
