//go:build !js

package engine

import (
	"fmt"
	"time"

	"github.com/cogentcore/webgpu/wgpu"
)

// openDevice asks wgpu-native for an adapter of the configured kind and a device with
// the adapter's limits.
func openDevice(config string) (*wgpu.Instance, *wgpu.Adapter, *wgpu.Device, error) {
	var backends wgpu.InstanceBackend
	switch config {
	case "", "vulkan":
		backends = wgpu.InstanceBackendVulkan
	case "gl":
		backends = wgpu.InstanceBackendGL
	case "any":
		backends = wgpu.InstanceBackendPrimary | wgpu.InstanceBackendGL
	default:
		return nil, nil, nil, fmt.Errorf("webgpu backend: unknown config %q (valid: vulkan, gl, any)", config)
	}
	instance, err := createInstance(backends)
	if err != nil {
		return nil, nil, nil, err
	}
	adapter, err := instance.RequestAdapter(&wgpu.RequestAdapterOptions{
		PowerPreference: wgpu.PowerPreferenceHighPerformance,
	})
	if err != nil || adapter == nil {
		instance.Release()
		return nil, nil, nil, fmt.Errorf("webgpu backend: no %s adapter found (%v); on a machine without a GPU install "+
			"Mesa's software Vulkan driver (apt-get install -y --no-install-recommends mesa-vulkan-drivers libvulkan1) "+
			"and set VK_ICD_FILENAMES=/usr/share/vulkan/icd.d/lvp_icd.x86_64.json", configName(config), err)
	}
	limits := adapter.GetLimits().Limits
	// Lavapipe refused a device once in a full test run while other processes were
	// creating theirs (the same call succeeded right after): a refusal is tried again
	// before it is an error.
	var device *wgpu.Device
	for try := range 4 {
		if try > 0 {
			time.Sleep(time.Duration(try) * 250 * time.Millisecond)
		}
		if device, err = adapter.RequestDevice(&wgpu.DeviceDescriptor{
			Label:          "gomlx-webgpu",
			RequiredLimits: &wgpu.RequiredLimits{Limits: limits},
		}); err == nil {
			break
		}
	}
	if err != nil {
		adapter.Release()
		instance.Release()
		return nil, nil, nil, fmt.Errorf("webgpu backend: requesting a device: %w", err)
	}
	return instance, adapter, device, nil
}

func configName(config string) string {
	if config == "" {
		return "vulkan"
	}
	return config
}
