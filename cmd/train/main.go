// Command train is the engine's main job: AMoPO preference training end to end.
//
//	go run ./cmd/train                          # a tiny model on the built-in task, pure Go, minutes on 2 cores
//	go run ./cmd/train --config run.yaml --preference.steps 500
//	go run ./cmd/train --backend xla:/abs/path/xla_cuda_plugin.so ...
//	go run ./cmd/train --model.dir Qwen2.5-0.5B-Instruct --data.format helpsteer2 \
//	    --data.train train.jsonl.gz --data.eval validation.jsonl.gz --sft.steps 0
//
// The job itself is trainer/recipe's Train: load, SFT, on-policy pairs, preference,
// evaluate, export.
// Every config key is a flag (--sft.steps, --loss.name, --loss.policy, ...); a --config
// file (JSON or YAML) is read first and flags override it. Ctrl-C saves a checkpoint;
// --resume continues bit-exactly.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/amopo-engine/amopo/trainer"
	"github.com/amopo-engine/amopo/trainer/recipe"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cfg := trainer.Defaults()
	// The config file comes first so that flags override it.
	if path := configFlag(args); path != "" {
		if err := trainer.LoadConfig(path, &cfg); err != nil {
			fmt.Fprintln(stderr, "train:", err)
			return 2
		}
	}
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.String("config", "", "a JSON or YAML config file; flags override it")
	trainer.BindFlags(fs, &cfg)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	// The flag package stops at the first argument that is not a flag: everything from
	// there on would be dropped without a word.
	if rest := fs.Args(); len(rest) > 0 {
		fmt.Fprintf(stderr, "train: unexpected argument %q (every setting is a flag: --key value, e.g. --preference.steps 50); it and the %d after it would be ignored\n",
			rest[0], len(rest)-1)
		return 2
	}
	report, err := recipe.Train(cfg, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "train:", err)
		return 1
	}
	if report.Interrupted {
		return 130
	}
	fmt.Fprintf(stdout, "done in %.0fs\n", report.Seconds)
	return 0
}

// configFlag finds --config's value before the flags are parsed.
func configFlag(args []string) string {
	for i, a := range args {
		switch {
		case a == "--config" || a == "-config":
			if i+1 < len(args) {
				return args[i+1]
			}
		case len(a) > 9 && a[:9] == "--config=":
			return a[9:]
		case len(a) > 8 && a[:8] == "-config=":
			return a[8:]
		}
	}
	return ""
}
