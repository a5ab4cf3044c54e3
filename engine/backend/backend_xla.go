//go:build cgo && ((linux && amd64) || darwin) && !noxla

package backend

import (
	"os"

	"github.com/gomlx/go-xla/pkg/pjrt"
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/xla"
)

// disableXLAAutoInstall makes sure the XLA backend never downloads a plugin.
func disableXLAAutoInstall() { xla.EnableAutoInstall(false) }

// newXLAWithClientOptions creates the XLA backend with the memory options of the
// environment (xlaClientOptions); ok is false when none is set, and the caller takes
// GoMLX's usual path.
func newXLAWithClientOptions(config string) (backend backends.Backend, ok bool, err error) {
	opts, err := xlaClientOptions(os.Getenv)
	if err != nil || opts == nil {
		return nil, err != nil, err
	}
	b, err := xla.NewWithOptions(config, pjrt.NamedValuesMap(opts))
	if err != nil {
		return nil, true, err
	}
	return b, true, nil
}
