// Package webtest holds what the Go tests that drive node scripts share: where the
// module and the npm test packages are, and failures that say how to install what is
// missing (these tests fail, never skip, when a tool is absent: CI must have them).
package webtest

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Install is the command that provides the test tools on a Debian-like CI machine.
const Install = "apt-get install -y --no-install-recommends chromium && (cd web/test && npm ci)"

// Root returns the module root (the directory of go.mod).
func Root(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		t.Fatalf("not inside the amopo module")
	}
	return filepath.Dir(gomod)
}

// TestDir returns web/test, after checking that node and its npm packages are installed.
func TestDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(Root(t), "web", "test")
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("node is not installed (Node 20 or later is needed); then run: %s", Install)
	}
	for _, pkg := range []string{"playwright-core", "workerd"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg, "package.json")); err != nil {
			t.Fatalf("the npm package %s is missing from web/test/node_modules; install the test tools: %s", pkg, Install)
		}
	}
	return dir
}

// Chromium returns the Chromium binary ($CHROMIUM or /usr/bin/chromium).
func Chromium(t testing.TB) string {
	t.Helper()
	path := os.Getenv("CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("Chromium is not at %s (set $CHROMIUM to another binary); install the test tools: %s", path, Install)
	}
	return path
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
