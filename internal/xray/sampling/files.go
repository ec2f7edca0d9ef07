package sampling

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// LoadFiles creates or replaces the rules of a file, or of every .json file of a directory,
// each holding one rule as `aws xray create-sampling-rule --cli-input-json` takes it:
// {"SamplingRule": {...}}.
func (s *Sampler) LoadFiles(ctx context.Context, path string) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	files := []string{path}
	if info.IsDir() {
		if files, err = filepath.Glob(filepath.Join(path, "*.json")); err != nil {
			return err
		}
		sort.Strings(files)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		var doc struct{ SamplingRule *Rule }
		if err := json.Unmarshal(b, &doc); err != nil || doc.SamplingRule == nil {
			return fmt.Errorf("%s: want {\"SamplingRule\": {...}} as create-sampling-rule takes it", f)
		}
		if _, err := s.Create(ctx, *doc.SamplingRule, true); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
	}
	return nil
}
