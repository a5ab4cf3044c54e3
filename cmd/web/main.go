// Command web serves the AMoPO web page (package web) and its Go wasm (wasm/page) on a
// local address, offline: no CDN, every file comes from this server.
//
//	go run ./cmd/web [--addr 127.0.0.1:8080] [--wasm prebuilt.wasm] [--cache DIR]
//
// Without --wasm it builds wasm/page with the Go toolchain (GOOS=js GOARCH=wasm) into the
// cache directory when the wasm is missing or older than a source file of the module it
// is built from. wasm_exec.js comes from $(go env GOROOT)/lib/wasm.
package main

import (
	"context"
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
	if err := flags.Parse(args); err != nil {
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
	handler, err := newHandler(wasmPath, filepath.Join(goroot, "lib", "wasm", "wasm_exec.js"))
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", *addr, err)
	}
	log.Printf("AMoPO page on http://%s/ (wasm %s)", ln.Addr(), wasmPath)
	srv := &http.Server{Handler: handler}
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
