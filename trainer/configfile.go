package trainer

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// DecodeFile reads a JSON or YAML file (by extension: .json, .yaml, .yml) into v, over
// the values v already holds. Unknown keys are errors naming the file. cmd/train's
// config (LoadConfig) and the experiment's are read with it.
func DecodeFile(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json":
		dec := json.NewDecoder(strings.NewReader(string(data)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(v); err != nil {
			return fmt.Errorf("config %s: %w", path, err)
		}
	case ".yaml", ".yml":
		dec := yaml.NewDecoder(strings.NewReader(string(data)))
		dec.KnownFields(true)
		if err := dec.Decode(v); err != nil {
			return fmt.Errorf("config %s: %w", path, err)
		}
	default:
		return fmt.Errorf("config %s: unknown extension (use .json, .yaml or .yml)", path)
	}
	return nil
}
