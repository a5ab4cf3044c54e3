// Command experiment runs the paper's comparison in miniature on the built-in task: SFT,
// generator and on-policy preference pairs, every method from the same SFT weights with
// the same budget, several seeds, program judges, and a markdown report with confidence
// intervals, win rates and PNG plots.
//
//	go run ./cmd/experiment --preset cpu --out docs --runs out/experiment   # docs/experiment.md, docs/*.png
//	go run ./cmd/experiment --preset cpu --estimate          # predicted wall time only (throughput measured first)
//	go run ./cmd/experiment --config exp.yaml                # a config file over the preset
//	go run ./cmd/experiment --rewrite docs/results.json      # the report again, no training
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/amopo-engine/amopo/experiment"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "experiment:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("experiment", flag.ContinueOnError)
	preset := fs.String("preset", "cpu", "starting configuration: tiny, cpu or gpu")
	config := fs.String("config", "", "a JSON or YAML config file read over the preset")
	outDir := fs.String("out", "", "output folder (overrides out_dir): the report, plots, results.json and runs/")
	runs := fs.String("runs", "", "folder of the per-run metrics (overrides runs_dir; default <out>/runs)")
	report := fs.String("report", "", "report file name inside the output folder (default experiment.md)")
	seeds := fs.String("seeds", "", "comma-separated seeds (overrides seeds)")
	backend := fs.String("backend", "", "GoMLX backend (overrides backend)")
	rewrite := fs.String("rewrite", "", "render the report and plots again from this results.json (no training), into --out or its own folder")
	estimate := fs.Bool("estimate", false, "print the predicted wall time and exit")
	tps := fs.Float64("tokens-per-second", 0, "training throughput the estimate assumes for SFT and preference steps (0: both measured here first, with a few steps of the config's model)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *rewrite != "" {
		res, err := experiment.ReadResults(*rewrite)
		if err != nil {
			return err
		}
		res.Config.OutDir = filepath.Dir(*rewrite)
		if *outDir != "" {
			res.Config.OutDir = *outDir
		}
		_, path, err := experiment.Write(res, *res.Meta)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "wrote %s from %s\n", path, *rewrite)
		return nil
	}
	cfg, err := experiment.Preset(*preset)
	if err != nil {
		return err
	}
	if *config != "" {
		if err := experiment.Load(*config, &cfg); err != nil {
			return err
		}
	}
	if *outDir != "" {
		cfg.OutDir = *outDir
	}
	if *runs != "" {
		cfg.RunsDir = *runs
	}
	if *report != "" {
		cfg.Report = *report
	}
	if *backend != "" {
		cfg.Backend = *backend
	}
	if *seeds != "" {
		cfg.Seeds = nil
		for _, s := range strings.Split(*seeds, ",") {
			v, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
			if err != nil {
				return fmt.Errorf("--seeds: %w", err)
			}
			cfg.Seeds = append(cfg.Seeds, v)
		}
	}
	if *tps < 0 {
		return fmt.Errorf("--tokens-per-second %g: must be > 0, or 0 to measure it", *tps)
	}
	tp := experiment.Throughput{SFT: *tps, Preference: *tps}
	if *tps == 0 {
		if tp, err = experiment.MeasureThroughput(cfg, 8); err != nil {
			return fmt.Errorf("measuring the throughput for the estimate: %w", err)
		}
		fmt.Fprintf(out, "measured %.0f (SFT) and %.0f (preference) training tokens/s (8 steps each of the config's model and batches, on this machine)\n",
			tp.SFT, tp.Preference)
	}
	est, err := experiment.EstimateCost(cfg, tp)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "estimate: %s\n", est)
	if *estimate {
		return nil
	}
	res, err := experiment.Run(cfg, out)
	if err != nil {
		return err
	}
	command := "go run ./cmd/experiment"
	if len(args) > 0 {
		command += " " + strings.Join(args, " ")
	}
	_, path, err := experiment.Write(res, experiment.Meta{Command: command, Machine: experiment.MachineInfo()})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "wrote %s (%.0f s)\n", path, res.Seconds)
	return nil
}
