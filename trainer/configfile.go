package trainer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// DecodeFile reads a JSON or YAML file (by extension: .json, .yaml, .yml) into v, over
// the values v already holds. Unknown keys, an empty file and a second value (JSON) or
// document (YAML) after the first are errors naming the file: each would otherwise be
// ignored without a word. cmd/train's config (LoadConfig) and the experiment's are read
// with it.
func DecodeFile(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	var decode func(any) error
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json":
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		decode = dec.Decode
	case ".yaml", ".yml":
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		decode = dec.Decode
	default:
		return fmt.Errorf("config %s: unknown extension (use .json, .yaml or .yml)", path)
	}
	if err := decode(v); errors.Is(err, io.EOF) {
		return fmt.Errorf("config %s: empty config", path)
	} else if err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	var rest any
	switch err := decode(&rest); {
	case err == nil:
		return fmt.Errorf("config %s: a second value follows the config (a file holds one config)", path)
	case !errors.Is(err, io.EOF):
		return fmt.Errorf("config %s: after the config: %w", path, err)
	}
	return nil
}
