package data

// preferenceDecoder reads HelpSteer2's preference file: split, prompt, response_1,
// response_2, preference_strength in -3..3, where a negative strength prefers response_1
// and 0 is a tie (no preference: dropped and counted). The file carries no per-dimension
// scores, so its pairs have none; other columns (the annotators' statements) are ignored.
type preferenceDecoder struct {
	opts Options
}

func (d *preferenceDecoder) row(o *object, st *Stats, emit func(Pair) error) error {
	split, err := o.optionalStr("split")
	if err != nil {
		return err
	}
	prompt, err := o.str("prompt")
	if err != nil {
		return err
	}
	r1, err := o.str("response_1")
	if err != nil {
		return err
	}
	r2, err := o.str("response_2")
	if err != nil {
		return err
	}
	if err := identical(o, "response_2", r1, r2, "response_1"); err != nil {
		return err
	}
	strength, err := o.integer("preference_strength", -3, 3)
	if err != nil {
		return err
	}
	// The row is valid; only now is it filtered, so a bad row of another split is still
	// reported.
	if d.opts.Split != "" && split != d.opts.Split {
		st.OtherSplit++
		return nil
	}
	if strength == 0 {
		st.TiesDropped[Overall]++
		return nil
	}
	chosen, rejected := r1, r2
	if strength > 0 {
		chosen, rejected = r2, r1
	} else {
		strength = -strength
	}
	p := Pair{
		Prompt:   prompt,
		Chosen:   Response{Text: chosen, Scores: Scores{}},
		Rejected: Response{Text: rejected, Scores: Scores{}},
		Strength: strength,
		Source:   Pos{o.file, o.line},
	}
	countPair(st, &p)
	return emit(p)
}

func (d *preferenceDecoder) endFile(*Stats, func(Pair) error) error { return nil }
