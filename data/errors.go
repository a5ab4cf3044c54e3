package data

import "fmt"

// RowError is a bad input row: "FILE:LINE: FIELD: reason". Field is a JSON path such
// as "chosen.helpfulness", or "json" when the line is not a JSON object.
type RowError struct {
	File   string
	Line   int
	Field  string
	Reason string
}

func (e *RowError) Error() string {
	return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Field, e.Reason)
}

func rowErrorf(file string, line int, field, format string, args ...any) *RowError {
	return &RowError{File: file, Line: line, Field: field, Reason: fmt.Sprintf(format, args...)}
}
