package data

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
)

// lineReader yields the non-blank lines of a JSON-lines stream with their 1-based line
// numbers. It undoes what real files carry: gzip compression (found by its magic bytes,
// not the file name, since hubs serve .jsonl.gz and .jsonl under either name), a UTF-8
// byte-order mark, CRLF line endings, blank lines. Lines may be of any length (one
// HelpSteer2 response can exceed bufio.Scanner's default 64 KiB).
type lineReader struct {
	name  string
	r     *bufio.Reader
	gz    *gzip.Reader
	line  int
	first bool
}

var gzipMagic = []byte{0x1f, 0x8b}

var utf8BOM = []byte{0xef, 0xbb, 0xbf}

func newLineReader(name string, r io.Reader) (*lineReader, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	lr := &lineReader{name: name, r: br, first: true}
	magic, err := br.Peek(2)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: reading: %w", name, err)
	}
	if bytes.Equal(magic, gzipMagic) {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%s: gzip header: %w", name, err)
		}
		lr.gz = gz
		lr.r = bufio.NewReaderSize(gz, 1<<16)
	}
	return lr, nil
}

// next returns the next non-blank line (without its line ending) and its number, or
// io.EOF at the end. The returned slice is only valid until the next call.
func (lr *lineReader) next() ([]byte, int, error) {
	for {
		b, err := lr.r.ReadBytes('\n')
		if len(b) == 0 && err != nil {
			if errors.Is(err, io.EOF) {
				return nil, lr.line, io.EOF
			}
			return nil, lr.line, fmt.Errorf("%s:%d: reading: %w", lr.name, lr.line+1, err)
		}
		lr.line++
		if lr.first {
			b = bytes.TrimPrefix(b, utf8BOM)
			lr.first = false
		}
		b = bytes.TrimRight(b, "\r\n")
		if len(bytes.TrimSpace(b)) == 0 {
			if err != nil && !errors.Is(err, io.EOF) {
				return nil, lr.line, fmt.Errorf("%s:%d: reading: %w", lr.name, lr.line, err)
			}
			continue
		}
		// A last line without a newline still counts; a read error other than EOF after
		// a partial line (a truncated gzip stream) must not pass for one.
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, lr.line, fmt.Errorf("%s:%d: reading: %w", lr.name, lr.line, err)
		}
		return b, lr.line, nil
	}
}

func (lr *lineReader) close() error {
	if lr.gz != nil {
		return lr.gz.Close()
	}
	return nil
}

// ForEachLine calls fn with each non-blank line of a JSON-lines stream (plain or gzip,
// CRLF or LF, with or without a BOM) and its 1-based line number; name is used in errors.
func ForEachLine(r io.Reader, name string, fn func(line []byte, num int) error) error {
	lr, err := newLineReader(name, r)
	if err != nil {
		return err
	}
	defer lr.close()
	for {
		b, n, err := lr.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(b, n); err != nil {
			return err
		}
	}
}
