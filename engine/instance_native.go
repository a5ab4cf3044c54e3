//go:build !js

package engine

/*
#include <stdint.h>
#include <stdlib.h>

// The layout of wgpu-native's WGPUInstanceDescriptor + WGPUInstanceExtras (wgpu.h of
// github.com/cogentcore/webgpu v0.23.0); the function comes from its static library.
typedef struct { const void *next; uint32_t sType; } engineChained;
typedef struct {
	engineChained chain;
	uint32_t backends, flags, dx12ShaderCompiler, gles3MinorVersion;
	const char *dxilPath, *dxcPath;
} engineInstanceExtras;
typedef struct { const engineChained *nextInChain; } engineInstanceDescriptor;
extern void *wgpuCreateInstance(const engineInstanceDescriptor *descriptor);

static void *engineCreateInstance(uint32_t backends) {
	engineInstanceExtras extras = {0}; // every field set: no garbage reaches wgpu-native
	extras.chain.sType = 0x00030006;   // WGPUSType_InstanceExtras
	extras.backends = backends;
	engineInstanceDescriptor desc = { &extras.chain };
	return wgpuCreateInstance(&desc);
}
*/
import "C"

import (
	"fmt"
	"unsafe"

	"github.com/cogentcore/webgpu/wgpu"
)

// createInstance is wgpu.CreateInstance without its bug: the binding mallocs the
// instance extras without zeroing them, so flags, gles3MinorVersion and the DXC paths hold
// garbage, and wgpu-native sometimes aborts the process ("Unknown gles3 minor version",
// seen in CI). This builds the same descriptor fully initialised and wraps the handle.
func createInstance(backends wgpu.InstanceBackend) (*wgpu.Instance, error) {
	ref := C.engineCreateInstance(C.uint32_t(backends))
	if ref == nil {
		return nil, fmt.Errorf("webgpu backend: wgpuCreateInstance failed")
	}
	// wgpu.Instance is struct{ ref C.WGPUInstance }: one pointer.
	type instance struct{ ref unsafe.Pointer }
	var probe wgpu.Instance
	if unsafe.Sizeof(probe) != unsafe.Sizeof(instance{}) {
		return nil, fmt.Errorf("webgpu backend: unexpected wgpu.Instance layout (binding version changed?)")
	}
	return (*wgpu.Instance)(unsafe.Pointer(&instance{ref: ref})), nil
}
