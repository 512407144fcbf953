package format

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"io"

	"github.com/apache/arrow/go/v17/arrow/ipc"
)

// Integrity (format version 2). Every message of a pain Arrow stream, the
// schema, each dictionary batch and each record batch, carries a checksum
// in the custom_metadata of its Message table: key "pain.crc", value 16
// lowercase hex digits, the CRC-32C of the message's flatbuffer header
// (with those 16 digits read as '0') and then the CRC-32C of its body.
// Readers check the header before they trust a length in it and the body
// before they decode a byte of it, so one flipped bit anywhere is an error
// that names the batch, never rows that read differently. Arrow readers
// that know nothing of pain ignore the key.
//
// The Arrow Go writer cannot put custom metadata on a batch, so sumWriter
// takes each message from it as a payload and splices the key into the
// header: a new Message table goes in front of the old header, which is
// kept byte for byte (its offsets are relative and stay valid).

const keyCRC = "pain.crc"

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// eos is the end-of-stream marker: a continuation token and a zero length.
var eos = [8]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}

// sumWriter is an ipc.PayloadWriter writing the stream format with a
// checksum in every message.
type sumWriter struct {
	w    io.Writer
	body bytes.Buffer
}

func (s *sumWriter) Start() error { return nil }

func (s *sumWriter) Close() error {
	_, err := s.w.Write(eos[:])
	return err
}

func (s *sumWriter) WritePayload(p ipc.Payload) error {
	meta := p.Meta()
	defer meta.Release()
	s.body.Reset()
	if err := p.SerializeBody(&s.body); err != nil {
		return err
	}
	hdr, err := withChecksum(meta.Bytes(), s.body.Bytes())
	if err != nil {
		return err
	}
	var frame [8]byte
	binary.LittleEndian.PutUint32(frame[:], 0xffffffff)
	binary.LittleEndian.PutUint32(frame[4:], uint32(len(hdr)))
	for _, b := range [][]byte{frame[:], hdr, s.body.Bytes()} {
		if _, err := s.w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

// The prefix withChecksum puts in front of a header, at these offsets (all
// tables 8-byte aligned, so the old header keeps its alignment):
const (
	pfxVTable   = 4  // Message vtable: 5 slots
	pfxTable    = 24 // Message table: vtable offset, header, bodyLength, custom_metadata, version, header_type
	pfxVector   = 48 // [KeyValue] of one element
	pfxKVVTable = 56 // KeyValue vtable: 2 slots
	pfxKV       = 64 // KeyValue table: vtable offset, key, value
	pfxKey      = 76 // key string: length, bytes, NUL
	pfxValue    = pfxKey + 4 + len(keyCRC) + 1
	pfxLen      = (pfxValue + 4 + 16 + 1 + 7) &^ 7
)

// withChecksum returns a copy of the Message flatbuffer hdr with the
// pain.crc key added, for a message with this body.
func withChecksum(hdr, body []byte) ([]byte, error) {
	f := &fb{b: hdr}
	root, err := f.u32(0)
	if err != nil {
		return nil, err
	}
	version, err := f.field(root, 0)
	if err != nil {
		return nil, err
	}
	kind, err := f.u8(root, 1)
	if err != nil {
		return nil, err
	}
	h, err := f.ref(root, 2)
	if err != nil || h == 0 {
		return nil, fmt.Errorf("message without a header")
	}
	bodyLen, err := f.i64(root, 3)
	if err != nil {
		return nil, err
	}
	n := pfxLen + (len(hdr)+7)&^7
	b := make([]byte, n)
	copy(b[pfxLen:], hdr)
	le := binary.LittleEndian
	le.PutUint32(b[0:], pfxTable)
	// Message vtable: size, table size, then the field offsets of slots
	// version, header_type, header, bodyLength, custom_metadata.
	for i, v := range []uint16{14, 24, 20, 22, 4, 8, 16} {
		le.PutUint16(b[pfxVTable+2*i:], v)
	}
	le.PutUint32(b[pfxTable:], pfxTable-pfxVTable)
	le.PutUint32(b[pfxTable+4:], uint32(pfxLen+h-(pfxTable+4)))
	le.PutUint64(b[pfxTable+8:], uint64(bodyLen))
	le.PutUint32(b[pfxTable+16:], pfxVector-(pfxTable+16))
	if version != 0 {
		copy(b[pfxTable+20:pfxTable+22], hdr[version:])
	}
	b[pfxTable+22] = kind
	le.PutUint32(b[pfxVector:], 1)
	le.PutUint32(b[pfxVector+4:], pfxKV-(pfxVector+4))
	for i, v := range []uint16{8, 12, 4, 8} {
		le.PutUint16(b[pfxKVVTable+2*i:], v)
	}
	le.PutUint32(b[pfxKV:], pfxKV-pfxKVVTable)
	le.PutUint32(b[pfxKV+4:], pfxKey-(pfxKV+4))
	le.PutUint32(b[pfxKV+8:], uint32(pfxValue-(pfxKV+8)))
	le.PutUint32(b[pfxKey:], uint32(len(keyCRC)))
	copy(b[pfxKey+4:], keyCRC)
	le.PutUint32(b[pfxValue:], 16)
	digits := b[pfxValue+4 : pfxValue+20]
	copy(digits, "0000000000000000")
	var sums [8]byte
	le.PutUint32(sums[:], crc32.Checksum(b, castagnoli))
	le.PutUint32(sums[4:], crc32.Checksum(body, castagnoli))
	hex.Encode(digits, sums[:])
	return b, nil
}

// storedChecksum finds the pain.crc value of a message header: the
// position of its 16 digits and the two sums they hold. ok is false when
// the header has none.
func storedChecksum(hdr []byte) (pos int, head, body uint32, ok bool, err error) {
	f := &fb{b: hdr}
	root, err := f.u32(0)
	if err != nil {
		return 0, 0, 0, false, err
	}
	v, n, err := f.vector(root, 4, 4)
	if err != nil {
		return 0, 0, 0, false, err
	}
	for i := range n {
		off, err := f.u32(v + 4*i)
		if err != nil {
			return 0, 0, 0, false, err
		}
		kv := v + 4*i + off
		key, err := f.str(kv, 0)
		if err != nil || key != keyCRC {
			continue
		}
		p, m, err := f.vector(kv, 1, 1)
		if err != nil {
			return 0, 0, 0, false, err
		}
		var sums [8]byte
		if m != 16 {
			return 0, 0, 0, false, fmt.Errorf("checksum of %d digits", m)
		}
		if _, err := hex.Decode(sums[:], hdr[p:p+16]); err != nil {
			return 0, 0, 0, false, fmt.Errorf("checksum %q is not hex", hdr[p:p+16])
		}
		le := binary.LittleEndian
		return p, le.Uint32(sums[:]), le.Uint32(sums[4:]), true, nil
	}
	return 0, 0, 0, false, nil
}

// headerSum is the CRC-32C of a header whose checksum digits are at pos.
func headerSum(hdr []byte, pos int) uint32 {
	sum := crc32.Update(0, castagnoli, hdr[:pos])
	sum = crc32.Update(sum, castagnoli, []byte("0000000000000000"))
	return crc32.Update(sum, castagnoli, hdr[pos+16:])
}

// str reads a string field of a table.
func (f *fb) str(table, slot int) (string, error) {
	p, n, err := f.vector(table, slot, 1)
	if err != nil {
		return "", err
	}
	return string(f.b[p : p+n]), nil
}
