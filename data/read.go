package data

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// Format names an input format.
type Format string

const (
	// HelpSteer2 is the raw HelpSteer2 rows, paired per dimension (MODPO's pairing).
	HelpSteer2 Format = "helpsteer2"
	// HelpSteer2Preference is HelpSteer2's preference/preference.jsonl.gz.
	HelpSteer2Preference Format = "helpsteer2-preference"
	// AMoPO is the AMoPO record format.
	AMoPO Format = "amopo"
	// JSONL is any JSON-lines file read through a Mapping.
	JSONL Format = "jsonl"
)

// Formats lists the input formats.
func Formats() []Format { return []Format{HelpSteer2, HelpSteer2Preference, AMoPO, JSONL} }

// ParseFormat returns the format of that name, or an error listing the known ones.
func ParseFormat(s string) (Format, error) {
	names := make([]string, 0, 4)
	for _, f := range Formats() {
		if string(f) == s {
			return f, nil
		}
		names = append(names, string(f))
	}
	return "", fmt.Errorf("unknown format %q (known: %s)", s, strings.Join(names, ", "))
}

// Options configure a read.
type Options struct {
	Format Format
	// Dimensions are the score dimensions to read. HelpSteer2: the columns to pair on
	// (default: all five). AMoPO and JSONL: the dimensions a record must carry, any other
	// key being an unknown dimension; when empty the first good record sets them.
	Dimensions []string
	// Scale is the valid score range; the zero value means DefaultScale (0..4).
	Scale Scale
	// SkipBad skips bad rows, counting them in Stats (and keeping their errors), instead
	// of stopping at the first.
	SkipBad bool
	// Split keeps only the preference-file rows of that split ("train", "validation");
	// "" keeps all.
	Split string
	// Mapping is the column mapping of the JSONL format.
	Mapping *Mapping
}

// Overall is the Stats key of pairs that carry one overall preference (Pair.Dimension "").
const Overall = "overall"

// Stats count what a read saw.
type Stats struct {
	Files int
	// Rows counts the non-blank lines read, good and bad.
	Rows    int
	BadRows int
	// Errors holds the bad rows' (and empty files') *RowError when Options.SkipBad is set.
	Errors []error
	Pairs  int
	// PairsByDimension counts the pairs per ordering dimension (Pair.Dimension; Overall
	// for an overall preference).
	PairsByDimension map[string]int
	// TiesDropped counts the candidate pairs dropped because they tie on the ordering
	// dimension (or, in the preference file, have strength 0): a tie is no preference.
	TiesDropped map[string]int
	// TiedScores counts, per dimension, the kept pairs whose chosen and rejected scores are
	// equal there: they stay (the overall preference holds) but teach that dimension nothing
	// about order.
	TiedScores map[string]int
	// UnpairedRows counts HelpSteer2 rows whose prompt has no second response.
	UnpairedRows int
	// OtherSplit counts preference-file rows left out by Options.Split.
	OtherSplit int
	// Bad rows that encoding/json would have let through, counted also in BadRows:
	// a key given twice in one object, invalid UTF-8, and chosen and rejected responses
	// that are the same text (no preference: its margin is 0 whatever the model does).
	DuplicateKeys, InvalidUTF8, IdenticalPairs int
	// EmptyFiles counts files without a row (empty, or only blank lines). They are not
	// rows, so not in BadRows, but like a bad row they are an error without SkipBad and
	// kept in Errors with it.
	EmptyFiles int
}

func newStats() Stats {
	return Stats{PairsByDimension: map[string]int{}, TiesDropped: map[string]int{}, TiedScores: map[string]int{}}
}

// Dimensions returns the keys of PairsByDimension and TiesDropped, sorted.
func (s *Stats) Dimensions() []string {
	seen := map[string]bool{}
	for k := range s.PairsByDimension {
		seen[k] = true
	}
	for k := range s.TiesDropped {
		seen[k] = true
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// decoder turns rows of one format into pairs.
type decoder interface {
	// row handles one decoded line; a *RowError is a bad row.
	row(o *object, st *Stats, emit func(Pair) error) error
	// endFile runs at the end of each file (HelpSteer2 closes its last prompt group).
	endFile(st *Stats, emit func(Pair) error) error
}

// Reader reads one or more files of one format into pairs, keeping Stats over all of them.
type Reader struct {
	opts  Options
	dec   decoder
	stats Stats
}

// NewReader checks the options and returns a Reader.
func NewReader(opts Options) (*Reader, error) {
	if opts.Scale == (Scale{}) {
		opts.Scale = DefaultScale()
	}
	if err := opts.Scale.validate(); err != nil {
		return nil, err
	}
	var dec decoder
	var err error
	switch opts.Format {
	case HelpSteer2:
		dec, err = newHelpSteer2Decoder(opts)
	case HelpSteer2Preference:
		dec = &preferenceDecoder{opts: opts}
	case AMoPO:
		dec, err = newAMoPODecoder(opts)
	case JSONL:
		dec, err = newMappedDecoder(opts)
	default:
		_, err = ParseFormat(string(opts.Format))
	}
	if err != nil {
		return nil, err
	}
	return &Reader{opts: opts, dec: dec, stats: newStats()}, nil
}

// Stats returns the counts so far.
func (r *Reader) Stats() Stats { return r.stats }

// ReadFile reads one file: JSON lines, plain or gzip-compressed, or parquet (each told
// by its magic bytes, not its name).
func (r *Reader) ReadFile(path string, emit func(Pair) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("opening data file: %w", err)
	}
	defer f.Close()
	magic := make([]byte, len(parquetMagic))
	if n, _ := io.ReadFull(f, magic); n == len(magic) && bytes.Equal(magic, parquetMagic) {
		return r.readParquet(f, path, emit)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return r.Read(f, path, emit)
}

// Read reads one stream; name is the file name used in messages. Pairs are handed to
// emit as they are built, so a file never has to fit in memory; an emit error stops the
// read and is returned as is.
func (r *Reader) Read(in io.Reader, name string, emit func(Pair) error) error {
	lr, err := newLineReader(name, in)
	if err != nil {
		return err
	}
	defer lr.close()
	r.stats.Files++
	rowsBefore := r.stats.Rows
	for {
		line, num, err := lr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		r.stats.Rows++
		o, rerr := parseLine(name, num, line)
		if rerr == nil {
			err = r.dec.row(o, &r.stats, emit)
		} else {
			err = rerr
		}
		if err := r.handle(err); err != nil {
			return err
		}
	}
	if err := r.checkNotEmpty(name, rowsBefore); err != nil {
		return err
	}
	return r.dec.endFile(&r.stats, emit)
}

// checkNotEmpty reports a file that yielded no row: a data file that is empty is
// almost always a failed download or export, not an intended empty set.
func (r *Reader) checkNotEmpty(name string, rowsBefore int) error {
	if r.stats.Rows > rowsBefore {
		return nil
	}
	return r.handle(&RowError{File: name, Line: 1, Field: "file", kind: badEmptyFile,
		Reason: "no rows: the file is empty or holds only blank lines"})
}

// handle counts a bad row and says whether the read must stop: with SkipBad only on an
// error that is not a bad row (an I/O or emit error).
func (r *Reader) handle(err error) error {
	if err == nil {
		return nil
	}
	var bad *RowError
	if !errors.As(err, &bad) {
		return err
	}
	switch bad.kind {
	case badEmptyFile:
		r.stats.EmptyFiles++
	case badDuplicateKey:
		r.stats.DuplicateKeys++
	case badUTF8:
		r.stats.InvalidUTF8++
	case badIdentical:
		r.stats.IdenticalPairs++
	}
	if bad.kind != badEmptyFile {
		r.stats.BadRows++
	}
	if !r.opts.SkipBad {
		return bad
	}
	r.stats.Errors = append(r.stats.Errors, bad)
	return nil
}

// ReadFiles reads the files in order and returns the Stats (also on error, so far).
func ReadFiles(paths []string, opts Options, emit func(Pair) error) (Stats, error) {
	r, err := NewReader(opts)
	if err != nil {
		return newStats(), err
	}
	for _, p := range paths {
		if err := r.ReadFile(p, emit); err != nil {
			return r.stats, err
		}
	}
	return r.stats, nil
}

// Load reads the files into memory.
func Load(paths []string, opts Options) ([]Pair, Stats, error) {
	var pairs []Pair
	st, err := ReadFiles(paths, opts, func(p Pair) error {
		pairs = append(pairs, p)
		return nil
	})
	return pairs, st, err
}

// identical refuses a pair whose rejected response (named field) is the chosen one's
// text: it states no preference.
func identical(o *object, field, chosen, rejected, what string) *RowError {
	if chosen != rejected {
		return nil
	}
	e := o.errorf(field, "identical to %s: no preference", what)
	e.kind = badIdentical
	return e
}

// countPair updates the stats for a kept pair.
func countPair(st *Stats, p *Pair) {
	st.Pairs++
	key := p.Dimension
	if key == "" {
		key = Overall
	}
	st.PairsByDimension[key]++
	for name, v := range p.Chosen.Scores {
		if w, ok := p.Rejected.Scores[name]; ok && w == v {
			st.TiedScores[name]++
		}
	}
}
