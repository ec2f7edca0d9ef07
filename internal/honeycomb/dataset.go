// Package honeycomb holds the rules of Honeycomb that more than one part of lookout follows:
// which dataset names are valid, and (with the receivers) how API keys and datasets route
// what is sent.
package honeycomb

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxDatasetName is the longest dataset name, in bytes.
const MaxDatasetName = 255

// ValidateDataset reports why name cannot name a dataset, or nil: it must be 1 to 255 bytes
// of UTF-8 without control characters or slashes (Honeycomb refuses URL-encoded slashes).
func ValidateDataset(name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return errors.New("a dataset name must not be empty")
	case len(name) > MaxDatasetName:
		return errors.New("a dataset name may be at most 255 bytes long")
	case !utf8.ValidString(name):
		return errors.New("a dataset name must be UTF-8")
	case strings.ContainsFunc(name, func(r rune) bool { return unicode.IsControl(r) || r == '/' }):
		return errors.New("a dataset name may not contain control characters or slashes")
	}
	return nil
}
