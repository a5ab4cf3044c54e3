//go:build js

package engine

import (
	"fmt"

	"github.com/cogentcore/webgpu/wgpu"
)

// openDevice uses the browser's navigator.gpu; the config is ignored.
func openDevice(config string) (*wgpu.Instance, *wgpu.Adapter, *wgpu.Device, error) {
	instance := wgpu.CreateInstance(nil)
	if instance == nil {
		return nil, nil, nil, fmt.Errorf("webgpu backend: navigator.gpu is not available in this browser " +
			"(Chromium needs --enable-unsafe-webgpu when headless)")
	}
	adapter, err := instance.RequestAdapter(&wgpu.RequestAdapterOptions{PowerPreference: wgpu.PowerPreferenceHighPerformance})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("webgpu backend: %w", err)
	}
	device, err := adapter.RequestDevice(nil)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("webgpu backend: requesting a device: %w", err)
	}
	return instance, adapter, device, nil
}
