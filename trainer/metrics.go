package trainer

// LogMetrics appends one row to the run's metrics.jsonl (creating out_dir and the file
// when needed): for the rows a caller adds beside the training steps, such as judge
// scores.
func (r *Run) LogMetrics(stage string, step int, m map[string]float64) error {
	if err := r.openMetrics(); err != nil {
		return err
	}
	return r.writeMetrics(stage, step, m)
}
