package server_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any test leaves a goroutine behind: every component must
// stop everything it started when the server shuts down.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
