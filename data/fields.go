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

// checkLine finds what json.Unmarshal lets through silently in a line that parsed: a
// key given twice in one object (Unmarshal keeps the last, another reader the first)
// and invalid UTF-8 (Unmarshal turns it into U+FFFD). It is one pass over the bytes,
// allocating only for keys written with escapes, so it costs about as much as
// utf8.Valid (BenchmarkParseLine).
func checkLine(file string, line int, b []byte) *RowError {
	s := keyScan{b: b, badAt: -1}
	if !utf8.Valid(b) {
		s.badAt = firstInvalidUTF8(b)
	}
	s.ws()
	s.object("") // parseLine has checked that the line is one object
	switch {
	case s.dup != "":
		return &RowError{File: file, Line: line, Field: s.dup, kind: badDuplicateKey,
			Reason: "duplicate key: the object has it twice (JSON readers keep either one)"}
	case s.badAt >= 0:
		field := s.badField
		if field == "" {
			field = "json"
		}
		return &RowError{File: file, Line: line, Field: field, kind: badUTF8,
			Reason: fmt.Sprintf("invalid UTF-8 at column %d (byte 0x%02x)", columnOf(b, int64(s.badAt)+1), b[s.badAt])}
	}
	return nil
}

// firstInvalidUTF8 returns the offset of the first byte that does not start a valid
// UTF-8 sequence.
func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return -1
}

// keyScan walks a JSON value already known to be valid. Fields are named as in
// RowError: "chosen.response", with "[]" for array elements.
type keyScan struct {
	b        []byte
	i        int
	badAt    int    // offset of the first invalid UTF-8 byte, -1 when none
	badField string // the field whose key or string holds it
	dup      string // the first duplicate key's field
}

func (s *keyScan) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// value skips one value; prefix and key name it (key nil for array elements).
func (s *keyScan) value(prefix string, key []byte) {
	s.ws()
	switch s.b[s.i] {
	case '{':
		s.object(childPrefix(prefix, key, "."))
	case '[':
		s.i++
		s.ws()
		if s.b[s.i] == ']' {
			s.i++
			return
		}
		elem := childPrefix(prefix, key, "")
		for {
			s.value(elem+"[]", nil)
			s.ws()
			if s.b[s.i] == ']' {
				s.i++
				return
			}
			s.i++ // ','
		}
	case '"':
		s.str(prefix, key)
	default: // number, true, false, null
		for s.i < len(s.b) && !isDelimiter(s.b[s.i]) {
			s.i++
		}
	}
}

func isDelimiter(c byte) bool {
	switch c {
	case ',', ']', '}', ' ', '\t', '\r', '\n':
		return true
	}
	return false
}

// childPrefix names a value by its parent's prefix and its key (nil for an array
// element), followed by sep.
func childPrefix(prefix string, key []byte, sep string) string {
	if key == nil {
		return prefix + sep
	}
	return prefix + string(key) + sep
}

// str skips a string and returns its raw bytes and whether it holds escapes.
func (s *keyScan) str(prefix string, key []byte) (raw []byte, escaped bool) {
	s.i++ // opening quote
	start := s.i
	for { // the closing quote is the first one not escaped by an odd run of backslashes
		s.i += bytes.IndexByte(s.b[s.i:], '"')
		k := s.i
		for k > start && s.b[k-1] == '\\' {
			k--
		}
		if (s.i-k)%2 == 0 {
			break
		}
		s.i++
	}
	raw = s.b[start:s.i]
	s.i++
	if s.badAt >= start && s.badAt < s.i && s.badField == "" {
		s.badField = strings.TrimSuffix(childPrefix(prefix, key, ""), ".")
	}
	return raw, bytes.IndexByte(raw, '\\') >= 0
}

func (s *keyScan) object(prefix string) {
	s.i++ // '{'
	s.ws()
	if s.b[s.i] == '}' {
		s.i++
		return
	}
	// Objects in data files have a handful of keys: a linear search over a stack
	// array, and a map only for a large object.
	var buf [16][]byte
	keys := buf[:0]
	var many map[string]bool
	for {
		s.ws()
		key, escaped := s.str(prefix, nil)
		if escaped { // compare keys as JSON means them: "\u0061" is "a"
			var k string
			if json.Unmarshal(s.b[s.i-len(key)-2:s.i], &k) == nil {
				key = []byte(k)
			}
		}
		seen := false
		if many != nil {
			seen = many[string(key)]
			many[string(key)] = true
		} else {
			for _, k := range keys {
				seen = seen || bytes.Equal(k, key)
			}
			keys = append(keys, key)
			if len(keys) > 32 {
				many = make(map[string]bool, 2*len(keys))
				for _, k := range keys {
					many[string(k)] = true
				}
			}
		}
		if seen && s.dup == "" {
			s.dup = prefix + string(key)
		}
		s.ws()
		s.i++ // ':'
		s.value(prefix, key)
		s.ws()
		if s.b[s.i] == '}' {
			s.i++
			return
		}
		s.i++ // ','
	}
}
