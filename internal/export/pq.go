package export

import (
	"fmt"
	"io"

	"github.com/apache/arrow/go/v17/parquet"
	"github.com/apache/arrow/go/v17/parquet/compress"
	"github.com/apache/arrow/go/v17/parquet/file"
	"github.com/apache/arrow/go/v17/parquet/metadata"
	"github.com/apache/arrow/go/v17/parquet/schema"
)

// Parquet files are written with the column-level writer of package
// parquet/file, not through pqarrow: pqarrow stores the Arrow schema with
// Arrow Flight's encoder, which links gRPC and protobuf and made pain-trace
// 30 MB larger. The columns here are flat and few, so the Parquet schema
// says all a reader needs: strings are UTF-8 byte arrays, payload_hash an
// unsigned 64-bit integer.

// kind is the type of a column.
type kind int

const (
	kString kind = iota // UTF-8 byte array
	kBytes              // byte array
	kInt64
	kInt32
	kUint64 // an INT64 with an unsigned logical type
	kFloat64
	kBool
)

// pqCol is one column's values for the row group being built: the values
// present, and a definition level per row when the column is nullable.
type pqCol struct {
	kind     kind
	nullable bool
	bytes    []parquet.ByteArray
	i64      []int64
	i32      []int32
	f64      []float64
	bools    []bool
	defs     []int16
}

func (c *pqCol) present() {
	if c.nullable {
		c.defs = append(c.defs, 1)
	}
}

func (c *pqCol) null() {
	if !c.nullable {
		panic("export: a null in a required column")
	}
	c.defs = append(c.defs, 0)
}

func (c *pqCol) str(s string) { c.present(); c.bytes = append(c.bytes, parquet.ByteArray(s)) }
func (c *pqCol) raw(b []byte) { c.present(); c.bytes = append(c.bytes, parquet.ByteArray(b)) }
func (c *pqCol) int64(v int64) {
	c.present()
	c.i64 = append(c.i64, v)
}
func (c *pqCol) int32(v int32)     { c.present(); c.i32 = append(c.i32, v) }
func (c *pqCol) float64(v float64) { c.present(); c.f64 = append(c.f64, v) }
func (c *pqCol) bool(v bool)       { c.present(); c.bools = append(c.bools, v) }

func (c *pqCol) reset() {
	c.bytes, c.i64, c.i32, c.f64, c.bools, c.defs = c.bytes[:0], c.i64[:0], c.i32[:0], c.f64[:0], c.bools[:0], c.defs[:0]
}

// pqFile writes rows in row groups of pqCol values.
type pqFile struct {
	fw   *file.Writer
	cols []*pqCol
	rows int
}

// pqField names a column of a new file.
type pqField struct {
	name     string
	kind     kind
	nullable bool
}

// newPQ starts a Parquet file on w (zstd, dictionary-encoded) with the
// key-value metadata keys and values. The caller owns w: the file does not
// close it.
func newPQ(w io.Writer, fields []pqField, keys, values []string) (*pqFile, error) {
	nodes := make(schema.FieldList, len(fields))
	cols := make([]*pqCol, len(fields))
	for i, f := range fields {
		n, err := pqNode(f)
		if err != nil {
			return nil, err
		}
		nodes[i], cols[i] = n, &pqCol{kind: f.kind, nullable: f.nullable}
	}
	root, err := schema.NewGroupNode("schema", parquet.Repetitions.Required, nodes, -1)
	if err != nil {
		return nil, err
	}
	kv := metadata.NewKeyValueMetadata()
	for i := range keys {
		if err := kv.Append(keys[i], values[i]); err != nil {
			return nil, err
		}
	}
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithDictionaryDefault(true), parquet.WithMaxRowGroupLength(rowGroupRows))
	sink := struct{ io.Writer }{w} // the writer closes a sink that has a Close
	fw := file.NewParquetWriter(sink, root, file.WithWriterProps(props), file.WithWriteMetadata(kv))
	return &pqFile{fw: fw, cols: cols}, nil
}

func pqNode(f pqField) (schema.Node, error) {
	rep := parquet.Repetitions.Required
	if f.nullable {
		rep = parquet.Repetitions.Optional
	}
	switch f.kind {
	case kString:
		return schema.NewPrimitiveNodeLogical(f.name, rep, schema.StringLogicalType{}, parquet.Types.ByteArray, -1, -1)
	case kBytes:
		return schema.NewByteArrayNode(f.name, rep, -1), nil
	case kInt64:
		return schema.NewInt64Node(f.name, rep, -1), nil
	case kInt32:
		return schema.NewInt32Node(f.name, rep, -1), nil
	case kUint64:
		return schema.NewPrimitiveNodeLogical(f.name, rep, schema.NewIntLogicalType(64, false), parquet.Types.Int64, -1, -1)
	case kFloat64:
		return schema.NewFloat64Node(f.name, rep, -1), nil
	case kBool:
		return schema.NewBooleanNode(f.name, rep, -1), nil
	}
	return nil, fmt.Errorf("export: column %s of unknown kind %d", f.name, f.kind)
}

// row ends a row whose values were added to the columns; a full row group
// is written.
func (p *pqFile) row() error {
	if p.rows++; p.rows >= rowGroupRows {
		return p.flush()
	}
	return nil
}

// flush writes the rows held as one row group.
func (p *pqFile) flush() error {
	if p.rows == 0 {
		return nil
	}
	rg := p.fw.AppendRowGroup()
	for _, c := range p.cols {
		cw, err := rg.NextColumn()
		if err != nil {
			return err
		}
		var defs []int16
		if c.nullable {
			defs = c.defs
		}
		switch w := cw.(type) {
		case *file.ByteArrayColumnChunkWriter:
			_, err = w.WriteBatch(c.bytes, defs, nil)
		case *file.Int64ColumnChunkWriter:
			_, err = w.WriteBatch(c.i64, defs, nil)
		case *file.Int32ColumnChunkWriter:
			_, err = w.WriteBatch(c.i32, defs, nil)
		case *file.Float64ColumnChunkWriter:
			_, err = w.WriteBatch(c.f64, defs, nil)
		case *file.BooleanColumnChunkWriter:
			_, err = w.WriteBatch(c.bools, defs, nil)
		default:
			err = fmt.Errorf("export: no writer for column chunk %T", cw)
		}
		if err != nil {
			return err
		}
		if err := cw.Close(); err != nil {
			return err
		}
		c.reset()
	}
	p.rows = 0
	return rg.Close()
}

// close writes what is left and the footer.
func (p *pqFile) close() error {
	err := p.flush()
	if cerr := p.fw.Close(); err == nil {
		err = cerr
	}
	return err
}
