package data

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"unicode/utf8"

	"github.com/parquet-go/parquet-go"
)

var parquetMagic = []byte("PAR1")

// readParquet reads a parquet file (the Hugging Face hub's auto-converted form of a
// data set) through the same decoders as JSON lines: each row becomes the JSON object of
// its top-level scalar columns, and the 1-based row number stands for the line number.
// Nested and repeated columns (lists of annotations) are left out.
func (r *Reader) readParquet(f *os.File, path string, emit func(Pair) error) error {
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	pf, err := parquet.OpenFile(f, info.Size())
	if err != nil {
		return fmt.Errorf("%s: opening parquet: %w", path, err)
	}
	columns := pf.Schema().Columns()
	r.stats.Files++
	rowNum := 0
	buf := make([]parquet.Row, 64)
	for _, rg := range pf.RowGroups() {
		rows := rg.Rows()
		for {
			n, err := rows.ReadRows(buf)
			for _, row := range buf[:n] {
				rowNum++
				r.stats.Rows++
				fields, badCol := parquetFields(row, columns)
				o := &object{file: path, line: rowNum, fields: fields}
				var rowErr error
				if badCol != "" {
					rowErr = &RowError{File: path, Line: rowNum, Field: badCol, kind: badUTF8, Reason: "invalid UTF-8"}
				} else {
					rowErr = r.dec.row(o, &r.stats, emit)
				}
				if err := r.handle(rowErr); err != nil {
					rows.Close()
					return err
				}
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				rows.Close()
				return fmt.Errorf("%s: row %d: reading parquet: %w", path, rowNum+1, err)
			}
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("%s: closing a row group: %w", path, err)
		}
	}
	if err := r.checkNotEmpty(path, r.stats.Rows-rowNum); err != nil {
		return err
	}
	return r.dec.endFile(&r.stats, emit)
}

// parquetFields turns the scalar top-level values of a row into JSON fields. badCol
// names the first string column holding invalid UTF-8, which json.Marshal would
// silently turn into U+FFFD.
func parquetFields(row parquet.Row, columns [][]string) (fields map[string]json.RawMessage, badCol string) {
	fields = map[string]json.RawMessage{}
	repeated := map[int]bool{}
	for _, v := range row {
		c := v.Column()
		if c < 0 || c >= len(columns) || len(columns[c]) != 1 || repeated[c] {
			continue
		}
		name := columns[c][0]
		if _, dup := fields[name]; dup { // a repeated column: not a scalar
			delete(fields, name)
			repeated[c] = true
			continue
		}
		var val any
		switch {
		case v.IsNull():
			val = nil
		case v.Kind() == parquet.ByteArray || v.Kind() == parquet.FixedLenByteArray:
			if !utf8.Valid(v.ByteArray()) && badCol == "" {
				badCol = name
			}
			val = string(v.ByteArray())
		case v.Kind() == parquet.Int32 || v.Kind() == parquet.Int64:
			val = v.Int64()
		case v.Kind() == parquet.Float:
			val = v.Float()
		case v.Kind() == parquet.Double:
			val = v.Double()
		case v.Kind() == parquet.Boolean:
			val = v.Boolean()
		default:
			continue
		}
		raw, err := json.Marshal(val)
		if err != nil { // NaN or Inf: keep it as a string the score check will refuse
			raw, _ = json.Marshal(fmt.Sprint(val))
		}
		fields[name] = raw
	}
	return fields, badCol
}
