package data

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"
)

// object is one decoded JSON object of a line, with what messages need to name it.
type object struct {
	file   string
	line   int
	prefix string // the path of this object inside the line ("chosen." ...)
	fields map[string]json.RawMessage
}

// parseLine decodes a line that must hold exactly one JSON object.
func parseLine(file string, line int, b []byte) (*object, *RowError) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return nil, rowErrorf(file, line, "json", "malformed JSON at column %d: %v", columnOf(b, syn.Offset), syn)
		case errors.As(err, &typ):
			return nil, rowErrorf(file, line, "json", "expected a JSON object, got %s", typ.Value)
		}
		return nil, rowErrorf(file, line, "json", "malformed JSON: %v", err)
	}
	if fields == nil { // the line was the literal null
		return nil, rowErrorf(file, line, "json", "expected a JSON object, got null")
	}
	if err := checkLine(file, line, b); err != nil {
		return nil, err
	}
	return &object{file: file, line: line, fields: fields}, nil
}

// columnOf turns a byte offset into a 1-based column counted in characters.
func columnOf(b []byte, offset int64) int {
	if offset > int64(len(b)) {
		offset = int64(len(b))
	}
	if offset < 1 {
		return 1
	}
	return utf8.RuneCount(b[:offset-1]) + 1
}

func (o *object) errorf(field, format string, args ...any) *RowError {
	return rowErrorf(o.file, o.line, o.prefix+field, format, args...)
}

func (o *object) has(name string) bool {
	_, ok := o.fields[name]
	return ok
}

// str returns a required string field. Empty or all-blank strings are refused: an empty
// prompt or response makes an empty sequence and a NaN loss downstream.
func (o *object) str(name string) (string, *RowError) {
	raw, ok := o.fields[name]
	if !ok {
		return "", o.errorf(name, "missing")
	}
	var s string
	if isNull(raw) || json.Unmarshal(raw, &s) != nil {
		return "", o.errorf(name, "expected a string, got %s", describeJSON(raw))
	}
	if strings.TrimSpace(s) == "" {
		return "", o.errorf(name, "empty")
	}
	return s, nil
}

// optionalStr returns a string field, or "" when it is absent.
func (o *object) optionalStr(name string) (string, *RowError) {
	if !o.has(name) {
		return "", nil
	}
	raw := o.fields[name]
	var s string
	if isNull(raw) || json.Unmarshal(raw, &s) != nil {
		return "", o.errorf(name, "expected a string, got %s", describeJSON(raw))
	}
	return s, nil
}

// number returns a required finite number field.
func (o *object) number(name string) (float64, *RowError) {
	raw, ok := o.fields[name]
	if !ok {
		return 0, o.errorf(name, "missing")
	}
	var v float64
	// Unmarshal takes null for a float64 without complaint (leaving 0): refuse it here.
	if isNull(raw) || json.Unmarshal(raw, &v) != nil {
		return 0, o.errorf(name, "expected a number, got %s", describeJSON(raw))
	}
	return v, nil
}

// integer returns a required integer field within [lo, hi]. The bounds are floats so
// that a score scale such as [0.5, 4] or [0, 1e20] is compared as given, not truncated
// or overflowed by a conversion to int.
func (o *object) integer(name string, lo, hi float64) (int, *RowError) {
	v, err := o.number(name)
	if err != nil {
		return 0, err
	}
	if v != math.Trunc(v) {
		return 0, o.errorf(name, "expected an integer, got %v", v)
	}
	if v < lo || v > hi {
		return 0, o.errorf(name, "%v out of range [%v, %v]", v, lo, hi)
	}
	return int(v), nil
}

// score returns a required score field within the scale.
func (o *object) score(name string, scale Scale) (float64, *RowError) {
	v, err := o.number(name)
	if err != nil {
		return 0, err
	}
	if why := scale.check(v); why != "" {
		return 0, o.errorf(name, "%s", why)
	}
	return v, nil
}

// child returns a required nested object field.
func (o *object) child(name string) (*object, *RowError) {
	raw, ok := o.fields[name]
	if !ok {
		return nil, o.errorf(name, "missing")
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return nil, o.errorf(name, "expected an object, got %s", describeJSON(raw))
	}
	return &object{file: o.file, line: o.line, prefix: o.prefix + name + ".", fields: fields}, nil
}

func isNull(raw json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(raw), []byte("null")) }

// describeJSON names the kind of a JSON value for messages, with a short excerpt.
func describeJSON(raw json.RawMessage) string {
	t := bytes.TrimSpace(raw)
	kind := "a value"
	switch {
	case len(t) == 0:
		return "nothing"
	case t[0] == '"':
		kind = "a string"
	case t[0] == '{':
		kind = "an object"
	case t[0] == '[':
		kind = "an array"
	case bytes.Equal(t, []byte("null")):
		return "null"
	case bytes.Equal(t, []byte("true")), bytes.Equal(t, []byte("false")):
		kind = "a boolean"
	default:
		kind = "a number"
	}
	excerpt := string(t)
	if utf8.RuneCountInString(excerpt) > 24 {
		excerpt = string([]rune(excerpt)[:24]) + "..."
	}
	return fmt.Sprintf("%s %s", kind, excerpt)
}
