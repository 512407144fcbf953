package format

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// twoBatches is a small trace of two record batches, each with its own
// dictionaries, so that every kind of message is in it.
func twoBatches(t testing.TB) ([]byte, []Event) {
	t.Helper()
	evs := append(sampleEvents(), sampleEvents()...)
	for i := range evs {
		evs[i].Seq = int64(i)
	}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, sampleMeta())
	if err != nil {
		t.Fatal(err)
	}
	for i := range evs {
		if err := w.Write(&evs[i]); err != nil {
			t.Fatal(err)
		}
		if i == len(evs)/2-1 {
			w.Flush()
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), evs
}

// schemaEnd is where the first message after the schema starts.
func schemaEnd(data []byte) int {
	n := int(uint32(data[4]) | uint32(data[5])<<8 | uint32(data[6])<<16 | uint32(data[7])<<24)
	return 8 + n
}

// TestFlippedBytes flips one bit in every byte of a trace in turn: each
// must be an error naming the file (and, past the schema, the batch),
// wrapping ErrCorrupt, and the rows read before it must be rows of the
// file, unchanged. Only damage to the end-of-stream marker, after every
// row was read intact, may look like a file cut short.
func TestFlippedBytes(t *testing.T) {
	data, want := twoBatches(t)
	for _, read := range []struct {
		name string
		f    func([]byte, string) ([]Event, error)
	}{
		{"Next", func(d []byte, n string) ([]Event, error) { _, e, err := readAll(d, n); return e, err }},
		{"NextBatch", readBatches},
	} {
		for i := range data {
			for _, bit := range []byte{0x01, 0x80} {
				bad := bytes.Clone(data)
				bad[i] ^= bit
				got, err := read.f(bad, "bad.arrows")
				where := func() string { return read.name + ": byte " + strconv.Itoa(i) + " of " + strconv.Itoa(len(data)) }
				switch {
				case err == nil:
					t.Fatalf("%s flipped: read without error", where())
				case !strings.HasPrefix(err.Error(), "bad.arrows: "):
					t.Fatalf("%s flipped: error does not name the file: %v", where(), err)
				case len(got) > 0 && !reflect.DeepEqual(got, want[:len(got)]):
					t.Fatalf("%s flipped: rows read differ from the file's", where())
				case errors.Is(err, ErrTruncated):
					if i < len(data)-8 || len(got) != len(want) {
						t.Fatalf("%s flipped: reported as cut short: %v", where(), err)
					}
				case errors.Is(err, ErrNotPain) && i < schemaEnd(data):
				case !errors.Is(err, ErrCorrupt):
					t.Fatalf("%s flipped: %v, want ErrCorrupt", where(), err)
				case i >= schemaEnd(data) && !strings.Contains(err.Error(), "batch "):
					t.Fatalf("%s flipped: error does not name the batch: %v", where(), err)
				}
			}
		}
	}
}

// TestFlippedSchedules does the same for a schedules file, which is read
// whole: any flip is an error, never a different aggregate.
func TestFlippedSchedules(t *testing.T) {
	data := encodeSchedules(t, sampleSchedules())
	for i := range data {
		bad := bytes.Clone(data)
		bad[i] ^= 0x04
		s, err := ReadSchedulesFrom(bytes.NewReader(bad), "bad.arrows")
		switch {
		case err == nil:
			t.Fatalf("byte %d of %d flipped: read without error: %+v", i, len(data), s)
		case errors.Is(err, ErrTruncated) && i < len(data)-8:
			t.Fatalf("byte %d flipped: reported as cut short: %v", i, err)
		case !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrTruncated) && !(errors.Is(err, ErrNotPain) && i < schemaEnd(data)):
			t.Fatalf("byte %d flipped: %v, want ErrCorrupt", i, err)
		}
	}
}

// corruptSamples are damaged copies of sample-v2.arrows and
// schedules-v2.arrows kept in testdata/corrupt: the fuzz targets start from
// them, and the command tests show what the tools say about them.
var corruptSamples = []struct {
	file, from string
	at         func(data []byte) int // the byte flipped
}{
	{"body.arrows", "sample-v2.arrows", func(d []byte) int { return len(d) - 40 }},
	{"header.arrows", "sample-v2.arrows", func(d []byte) int { return schemaEnd(d) + 60 }},
	{"length.arrows", "sample-v2.arrows", func(d []byte) int { return schemaEnd(d) + 5 }},
	{"schedules-body.arrows", "schedules-v2.arrows", func(d []byte) int { return len(d) - 40 }},
}

func TestCorruptSamples(t *testing.T) {
	for _, c := range corruptSamples {
		path := filepath.Join("testdata", "corrupt", c.file)
		if *update {
			data, err := os.ReadFile(filepath.Join("testdata", c.from))
			if err != nil {
				t.Fatal(err)
			}
			data[c.at(data)] ^= 0x10
			os.MkdirAll(filepath.Dir(path), 0o755)
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		var err error
		if strings.HasPrefix(c.file, "schedules") {
			_, err = ReadSchedules(path)
		} else {
			_, _, err = ReadFile(path)
		}
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "batch ") {
			t.Errorf("%s: %v, want ErrCorrupt naming a batch", c.file, err)
		}
	}
}

// addCorruptSeeds adds the damaged samples to a fuzz target's corpus.
func addCorruptSeeds(f *testing.F) {
	for _, c := range corruptSamples {
		data, err := os.ReadFile(filepath.Join("testdata", "corrupt", c.file))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}
