// Package atomicfile writes output files whole or not at all: into a
// temporary file beside the target, synced, then renamed over it, so a tool
// killed half-way never leaves a truncated plans.jsonl or schedules.arrows
// for the next stage of a pipeline to trip on.
package atomicfile

import (
	"io"
	"os"
	"path/filepath"
)

// File is an output file being written. Commit makes it appear at its path;
// Abort (or a Close without Commit) removes it.
type File struct {
	*os.File
	path   string
	done   bool
	direct bool // written in place: path is no regular file
}

// Create starts writing path. A path that exists and is no regular file
// (/dev/null, /dev/stdout, a FIFO) is written in place: renaming a
// temporary file over it would replace the device with a plain file, as
// `pain-plan -o /dev/null` once did to this machine's /dev/null.
func Create(path string) (*File, error) {
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return nil, err
		}
		return &File{File: f, path: path, direct: true}, nil
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return nil, err
	}
	return &File{File: f, path: path}, nil
}

// Commit syncs the data and renames the file into place.
func (f *File) Commit() error {
	if f.done {
		return nil
	}
	f.done = true
	if f.direct {
		return f.File.Close()
	}
	err := f.Sync()
	if cerr := f.File.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), f.path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// Abort discards what was written. It is safe to call after Commit.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.File.Close()
	if !f.direct {
		os.Remove(f.Name())
	}
}

// Write writes data to path whole or not at all.
func Write(path string, data []byte) error {
	return WriteFrom(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteFrom writes what fill writes to path, whole or not at all: if fill
// fails nothing appears at path.
func WriteFrom(path string, fill func(io.Writer) error) error {
	f, err := Create(path)
	if err != nil {
		return err
	}
	if err := fill(f); err != nil {
		f.Abort()
		return err
	}
	return f.Commit()
}
