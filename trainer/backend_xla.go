//go:build cgo && ((linux && amd64) || darwin) && !noxla

package trainer

import "github.com/gomlx/gomlx/backends/xla"

// disableXLAAutoInstall makes sure the XLA backend never downloads a plugin.
func disableXLAAutoInstall() { xla.EnableAutoInstall(false) }
