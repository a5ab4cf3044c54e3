//go:build !(cgo && ((linux && amd64) || darwin) && !noxla)

package backend

import "github.com/gomlx/gomlx/backends"

func disableXLAAutoInstall() {}

func newXLAWithClientOptions(string) (backends.Backend, bool, error) { return nil, false, nil }
