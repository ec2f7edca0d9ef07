package server_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any test leaves a goroutine behind: every component must
// stop everything it started when the server shuts down. rollbar-go starts its package-level
// client's sender when it is imported (by the demo's Cruddur), which nothing here uses.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/rollbar/rollbar-go.NewAsyncTransport.func1"))
}
