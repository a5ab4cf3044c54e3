//go:build js

package backend

// fastExecutors: the browser build runs GoMLX's own executors (see cpu.go).
func fastExecutors() bool { return false }
