package format

import (
	"encoding/binary"
	"fmt"
)

// The Arrow library trusts the counts in a message's flatbuffer header and
// allocates what they say before it looks any further, so a few corrupt
// bytes in an untrusted file could make it allocate terabytes, which no
// recover() can catch. checkMessage walks the parts of the header that the
// library sizes allocations from and makes sure every vector fits in the
// header it came from. Slot numbers follow Arrow's Message.fbs and Schema.fbs.

type fb struct {
	b     []byte
	depth int
}

func (f *fb) u32(p int) (int, error) {
	if p < 0 || p+4 > len(f.b) {
		return 0, fmt.Errorf("offset %d outside the %d-byte header", p, len(f.b))
	}
	return int(binary.LittleEndian.Uint32(f.b[p:])), nil
}

func (f *fb) u16(p int) (int, error) {
	if p < 0 || p+2 > len(f.b) {
		return 0, fmt.Errorf("offset %d outside the %d-byte header", p, len(f.b))
	}
	return int(binary.LittleEndian.Uint16(f.b[p:])), nil
}

// field returns the position of a table's field (0 when absent).
func (f *fb) field(table, slot int) (int, error) {
	so, err := f.u32(table)
	if err != nil {
		return 0, err
	}
	vt := table - int(int32(so))
	size, err := f.u16(vt)
	if err != nil {
		return 0, err
	}
	vo := 4 + 2*slot
	if vo+2 > size {
		return 0, nil
	}
	fo, err := f.u16(vt + vo)
	if err != nil || fo == 0 {
		return 0, err
	}
	return table + fo, nil
}

// ref follows a uoffset field to the table, vector or string it points at.
func (f *fb) ref(table, slot int) (int, error) {
	p, err := f.field(table, slot)
	if err != nil || p == 0 {
		return 0, err
	}
	off, err := f.u32(p)
	if err != nil {
		return 0, err
	}
	return p + off, nil
}

// vector checks the vector in a field fits and returns its position and length.
func (f *fb) vector(table, slot, elem int) (pos, n int, err error) {
	v, err := f.ref(table, slot)
	if err != nil || v == 0 {
		return 0, 0, err
	}
	if n, err = f.u32(v); err != nil {
		return 0, 0, err
	}
	if n > (len(f.b)-v-4)/elem {
		return 0, 0, fmt.Errorf("vector of %d elements in a %d-byte header", n, len(f.b))
	}
	return v + 4, n, nil
}

// tables checks a vector of tables and each table in it with check.
func (f *fb) tables(table, slot int, check func(int) error) error {
	v, n, err := f.vector(table, slot, 4)
	for i := 0; err == nil && i < n; i++ {
		var off int
		if off, err = f.u32(v + 4*i); err == nil {
			err = check(v + 4*i + off)
		}
	}
	return err
}

// keyValue checks one KeyValue table: two strings.
func (f *fb) keyValue(kv int) error {
	if _, _, err := f.vector(kv, 0, 1); err != nil {
		return err
	}
	_, _, err := f.vector(kv, 1, 1)
	return err
}

func (f *fb) arrowField(t int) error {
	if f.depth++; f.depth > 64 {
		return fmt.Errorf("fields nested too deep")
	}
	defer func() { f.depth-- }()
	if _, _, err := f.vector(t, 0, 1); err != nil { // name
		return err
	}
	if err := f.tables(t, 5, f.arrowField); err != nil { // children
		return err
	}
	return f.tables(t, 6, f.keyValue) // custom_metadata
}

// checkMessage validates the header of one IPC message.
func checkMessage(meta []byte) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("bad message header: %v", p)
		}
	}()
	f := &fb{b: meta}
	root, err := f.u32(0)
	if err != nil {
		return err
	}
	if err := f.tables(root, 4, f.keyValue); err != nil { // message custom_metadata
		return err
	}
	kind, err := f.field(root, 1)
	if err != nil || kind == 0 {
		return err
	}
	hdr, err := f.ref(root, 2)
	if err != nil || hdr == 0 {
		return err
	}
	switch f.b[kind] {
	case 1: // Schema
		if err := f.tables(hdr, 1, f.arrowField); err != nil {
			return err
		}
		if err := f.tables(hdr, 2, f.keyValue); err != nil {
			return err
		}
		_, _, err = f.vector(hdr, 3, 8) // features
	case 2: // DictionaryBatch: an id and a RecordBatch of the values
		var data int
		if data, err = f.ref(hdr, 1); err == nil && data != 0 {
			err = f.recordBatch(data)
		}
	case 3: // RecordBatch
		err = f.recordBatch(hdr)
	default:
		err = fmt.Errorf("message type %d is not used in pain files", f.b[kind])
	}
	return err
}

func (f *fb) recordBatch(t int) error {
	if _, _, err := f.vector(t, 1, 16); err != nil { // nodes
		return err
	}
	if _, _, err := f.vector(t, 2, 16); err != nil { // buffers
		return err
	}
	_, _, err := f.vector(t, 4, 8) // variadic buffer counts
	return err
}
