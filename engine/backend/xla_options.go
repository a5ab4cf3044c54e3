package backend

import (
	"fmt"
	"strconv"
	"strings"
)

// The XLA GPU client's memory settings, read from the environment variables JAX users
// already know (docs: "GPU memory allocation"), and passed as PJRT client-create options:
//
//	XLA_PYTHON_CLIENT_PREALLOCATE=false   allocate on demand instead of 75% of the card up front
//	XLA_PYTHON_CLIENT_MEM_FRACTION=.5     the share of the card preallocated
//	XLA_PYTHON_CLIENT_ALLOCATOR=platform  default, platform (exact, slow), bfc or cuda_async
//
// Without them the plugin's defaults hold (preallocation), as in JAX. The benchmark sets
// PREALLOCATE=false so that the memory the card reports is what the step used.
var xlaClientEnv = []string{"XLA_PYTHON_CLIENT_PREALLOCATE", "XLA_PYTHON_CLIENT_MEM_FRACTION", "XLA_PYTHON_CLIENT_ALLOCATOR"}

// xlaClientOptions turns those variables into the GPU plugin's create options (names and
// types of XLA's PJRT_Client_Create: preallocate bool, memory_fraction float, allocator
// string). A bad value is an error naming the variable; none set gives nil.
func xlaClientOptions(getenv func(string) string) (map[string]any, error) {
	opts := map[string]any{}
	if v := getenv("XLA_PYTHON_CLIENT_PREALLOCATE"); v != "" {
		switch strings.ToLower(v) {
		case "false", "0":
			opts["preallocate"] = false
		case "true", "1":
			opts["preallocate"] = true
		default:
			return nil, fmt.Errorf("XLA_PYTHON_CLIENT_PREALLOCATE=%q: want true or false", v)
		}
	}
	if v := getenv("XLA_PYTHON_CLIENT_MEM_FRACTION"); v != "" {
		f, err := strconv.ParseFloat(v, 32)
		if err != nil || !(f > 0 && f <= 1) {
			return nil, fmt.Errorf("XLA_PYTHON_CLIENT_MEM_FRACTION=%q: want a number in (0, 1]", v)
		}
		opts["memory_fraction"] = float32(f)
	}
	if v := getenv("XLA_PYTHON_CLIENT_ALLOCATOR"); v != "" {
		switch v {
		case "default", "platform", "bfc", "cuda_async":
			opts["allocator"] = v
		default:
			return nil, fmt.Errorf("XLA_PYTHON_CLIENT_ALLOCATOR=%q: want default, platform, bfc or cuda_async", v)
		}
	}
	if len(opts) == 0 {
		return nil, nil
	}
	return opts, nil
}
