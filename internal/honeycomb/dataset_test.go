package honeycomb

import (
	"strings"
	"testing"
)

func TestValidateDataset(t *testing.T) {
	for _, ok := range []string{"shop", "My Dataset!", "ünïcode", strings.Repeat("a", 255)} {
		if err := ValidateDataset(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "  ", strings.Repeat("a", 256), strings.Repeat("a", 60_000), "a\x00b", "tab\there", "a/b", "\xff"} {
		if ValidateDataset(bad) == nil {
			t.Errorf("%.40q accepted", bad)
		}
	}
}
