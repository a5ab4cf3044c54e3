package data

import "fmt"

// RowError is a bad input row: "FILE:LINE: FIELD: reason". Field is a JSON path such
// as "chosen.helpfulness", or "json" when the line is not a JSON object.
type RowError struct {
	File   string
	Line   int
	Field  string
	Reason string

	kind badKind // what Stats counts it as, beyond a bad row
}

// badKind sorts the bad rows that Stats counts separately.
type badKind int

const (
	badOther        badKind = iota
	badDuplicateKey         // a key twice in one object
	badUTF8                 // invalid UTF-8
	badIdentical            // chosen and rejected responses are the same text
	badEmptyFile            // a file without a row (not a row itself)
)

func (e *RowError) Error() string {
	return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Field, e.Reason)
}

func rowErrorf(file string, line int, field, format string, args ...any) *RowError {
	return &RowError{File: file, Line: line, Field: field, Reason: fmt.Sprintf(format, args...)}
}
