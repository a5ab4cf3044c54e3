package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/amopo-engine/amopo/data"
)

func validate(args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("data validate", flag.ContinueOnError)
	flags.SetOutput(stderr)
	format := flags.String("format", "", "input format: helpsteer2, helpsteer2-preference, amopo or jsonl")
	mapping := flags.String("map", "", "jsonl column mapping: prompt=COL,chosen=COL,rejected=COL,chosen.DIM=COL,rejected.DIM=COL")
	dims := flags.String("dimensions", "", "comma-separated dimensions (helpsteer2: the columns to pair on; amopo, jsonl: the dimensions expected)")
	split := flags.String("split", "", "helpsteer2-preference: keep only this split")
	minScore := flags.Float64("min-score", 0, "lowest valid score")
	maxScore := flags.Float64("max-score", 4, "highest valid score")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "data validate: %v\n", err)
		return 2
	}
	f, err := data.ParseFormat(*format)
	if err != nil {
		return fail(fmt.Errorf("--format: %w", err))
	}
	if flags.NArg() == 0 {
		return fail(errors.New("no input file"))
	}
	scale := data.Scale{Min: *minScore, Max: *maxScore}
	if err := scale.Validate(); err != nil {
		return fail(fmt.Errorf("--min-score %v, --max-score %v: %w", *minScore, *maxScore, err))
	}
	opts := data.Options{Format: f, SkipBad: true, Split: *split, Scale: scale}
	if *dims != "" {
		opts.Dimensions = strings.Split(*dims, ",")
	}
	if *mapping != "" {
		if opts.Mapping, err = data.ParseMapping(*mapping); err != nil {
			return fail(fmt.Errorf("--map: %w", err))
		}
	}
	r, err := data.NewReader(opts)
	if err != nil {
		return fail(err)
	}
	for _, path := range flags.Args() {
		if err := r.ReadFile(path, func(data.Pair) error { return nil }); err != nil {
			report(stdout, r.Stats())
			return fail(err)
		}
	}
	st := r.Stats()
	report(stdout, st)
	if st.BadRows > 0 || st.EmptyFiles > 0 {
		return 1
	}
	return 0
}

// report prints the bad rows, then the counts.
func report(w io.Writer, st data.Stats) {
	for _, e := range st.Errors {
		fmt.Fprintln(w, e)
	}
	fmt.Fprintf(w, "files: %d\nrows read: %d\nbad rows: %d\npairs: %d\n", st.Files, st.Rows, st.BadRows, st.Pairs)
	dims := st.Dimensions()
	if len(dims) > 0 {
		fmt.Fprintln(w, "pairs per dimension:")
	}
	for _, d := range dims {
		fmt.Fprintf(w, "  %s: %d (ties dropped: %d)\n", d, st.PairsByDimension[d], st.TiesDropped[d])
	}
	if len(st.TiedScores) > 0 {
		fmt.Fprintln(w, "pairs kept with equal chosen and rejected scores:")
		names := make([]string, 0, len(st.TiedScores))
		for d := range st.TiedScores {
			names = append(names, d)
		}
		sort.Strings(names)
		for _, d := range names {
			fmt.Fprintf(w, "  %s: %d\n", d, st.TiedScores[d])
		}
	}
	if st.UnpairedRows > 0 {
		fmt.Fprintf(w, "unpaired rows (a prompt with one response): %d\n", st.UnpairedRows)
	}
	if st.OtherSplit > 0 {
		fmt.Fprintf(w, "rows of other splits left out: %d\n", st.OtherSplit)
	}
	for _, c := range []struct {
		n    int
		what string
	}{
		{st.DuplicateKeys, "bad rows with a duplicate JSON key"},
		{st.InvalidUTF8, "bad rows with invalid UTF-8"},
		{st.IdenticalPairs, "bad rows whose chosen and rejected responses are identical (no preference)"},
		{st.EmptyFiles, "empty files (no rows)"},
	} {
		if c.n > 0 {
			fmt.Fprintf(w, "%s: %d\n", c.what, c.n)
		}
	}
}
