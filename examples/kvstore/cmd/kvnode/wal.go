package main

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"strings"
)

// wal is a backup's write-ahead log: one line a record ("HELLO", "PUT k v"),
// appended, and made durable with fdatasync.
type wal struct {
	f         *os.File
	syncAfter bool // the bug of -sync after: answer first, fdatasync after
	unsynced  bool
}

// openWAL opens dir/wal.log, creating dir and the log durably (each new
// name's directory is synced), and replays it into s. A torn last record
// (cut short, or zeros where its bytes never reached the disk) is cut off:
// it was never acknowledged, because nothing is acknowledged before its
// record is whole.
func openWAL(dir string, s *store, logger *log.Logger) (*wal, error) {
	if err := mkdirDurable(dir); err != nil {
		return nil, err
	}
	name := filepath.Join(dir, "wal.log")
	_, statErr := os.Stat(name)
	f, err := os.OpenFile(name, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if os.IsNotExist(statErr) {
		if err := syncDir(dir); err != nil {
			f.Close()
			return nil, err
		}
	}
	good, n, err := replay(f, s)
	if err == nil && good < n {
		logger.Printf("wal: cut a torn record (%d bytes) after %d good bytes", n-good, good)
		err = f.Truncate(good)
		if err == nil {
			err = fdatasync(int(f.Fd()))
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	logger.Printf("wal: %d keys, joined %v, from %s", len(s.keys), s.joined, name)
	return &wal{f: f}, nil
}

// replay applies every whole record of the log to s and returns the length
// of those records and of the file.
func replay(f *os.File, s *store) (good, size int64, err error) {
	b, err := io.ReadAll(f)
	if err != nil {
		return 0, 0, err
	}
	for {
		i := bytes.IndexByte(b[good:], '\n')
		if i < 0 {
			break
		}
		line := string(b[good : good+int64(i)])
		if strings.ContainsRune(line, 0) || !s.apply(strings.Fields(line)) {
			break
		}
		good += int64(i) + 1
	}
	return good, int64(len(b)), nil
}

// append writes a record; unless the log answers first (-sync after), it
// is durable when append returns.
func (w *wal) append(record string) error {
	if _, err := w.f.WriteString(record + "\n"); err != nil {
		return err
	}
	w.unsynced = true
	if w.syncAfter {
		return nil
	}
	return w.sync()
}

// sync makes what was appended durable.
func (w *wal) sync() error {
	if !w.unsynced {
		return nil
	}
	w.unsynced = false
	return fdatasync(int(w.f.Fd()))
}

// mkdirDurable creates dir, and any missing parent, syncing the directory
// that holds each new one.
func mkdirDurable(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	parent := filepath.Dir(dir)
	if err := mkdirDurable(parent); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !os.IsExist(err) {
		return err
	}
	return syncDir(parent)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
