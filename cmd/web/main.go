// Command web serves the AMoPO web page (package web) and its Go wasm (wasm/page) on a
// local address, offline: no CDN, every file comes from this server.
//
//	go run ./cmd/web [--addr 127.0.0.1:8080] [--run out/run]... [--wasm prebuilt.wasm] [--cache DIR]
//
// --run follows a training run while it writes: a cmd/train out_dir, its metrics.jsonl,
// or a folder of runs (each subfolder with a metrics.jsonl, e.g. the experiment's
// per-method runs). The page opens them side by side and draws new rows as they come
// (server-sent events), starting over when the run rewrites its file (--resume).
//
// Without --wasm it builds wasm/page with the Go toolchain (GOOS=js GOARCH=wasm) into the
// cache directory when the wasm is missing or older than a source file of the module it
// is built from. wasm_exec.js comes from $(go env GOROOT)/lib/wasm.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "web:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	flags := flag.NewFlagSet("web", flag.ContinueOnError)
	addr := flags.String("addr", "127.0.0.1:8080", "address to listen on")
	prebuilt := flags.String("wasm", "", "serve this prebuilt wasm of ./wasm/page instead of building one")
	cache := flags.String("cache", "", "where to build the wasm (default: the user cache dir's amopo-web)")
	var runArgs []string
	flags.Func("run", "follow this training run: an out_dir, a metrics.jsonl or a folder of runs (repeatable)", func(v string) error {
		runArgs = append(runArgs, v)
		return nil
	})
	if err := flags.Parse(args); errors.Is(err, flag.ErrHelp) {
		return nil // the usage is printed: asking for it is no error
	} else if err != nil {
		return err
	}
	if flags.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (flags start with --; see --help)", flags.Arg(0))
	}
	runs, err := findRuns(runArgs)
	if err != nil {
		return err
	}
	goroot, err := goEnv("GOROOT")
	if err != nil {
		return err
	}
	wasmPath := *prebuilt
	if wasmPath == "" {
		dir := *cache
		if dir == "" {
			userCache, err := os.UserCacheDir()
			if err != nil {
				return fmt.Errorf("finding a cache directory (pass --cache): %w", err)
			}
			dir = filepath.Join(userCache, "amopo-web")
		}
		if wasmPath, err = ensureWasm(dir, log.Printf); err != nil {
			return err
		}
	} else if _, err := os.Stat(wasmPath); err != nil {
		return fmt.Errorf("--wasm: %w", err)
	}
	handler, err := newHandler(wasmPath, filepath.Join(goroot, "lib", "wasm", "wasm_exec.js"), runs)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", *addr, err)
	}
	log.Printf("AMoPO page on http://%s/ (wasm %s)", ln.Addr(), wasmPath)
	for _, r := range runs {
		log.Printf("following run %s: %s", r.Name, r.metrics)
	}
	srv := newServer(handler, serverTimeouts)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		srv.Close() //nolint:errcheck // shutting down
	}()
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		return fmt.Errorf("serving: %w", err)
	}
	return nil
}
