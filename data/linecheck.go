package data

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// checkLine finds what json.Unmarshal lets through silently in a line that parsed: a
// key given twice in one object (Unmarshal keeps the last, another reader the first)
// and invalid UTF-8 (Unmarshal turns it into U+FFFD). It is one pass over the bytes
// that allocates only for nested objects' names and keys written with escapes: on a
// HelpSteer2-sized row it takes about a sixth of json.Unmarshal's time
// (BenchmarkParseLine).
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
