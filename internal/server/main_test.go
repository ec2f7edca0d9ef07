package server_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any test leaves a goroutine behind: every component must
// stop everything it started when the server shuts down. The X-Ray Go SDK's sampling
// pollers are the SDK's own and run for the life of the process; rollbar-go starts its
// package-level client's transport when it is imported; neither is lookout's.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("github.com/aws/aws-xray-sdk-go/strategy/sampling.(*CentralizedStrategy).startRulePoller.func2"),
		goleak.IgnoreTopFunction("github.com/aws/aws-xray-sdk-go/strategy/sampling.(*CentralizedStrategy).startTargetPoller.func1"),
		goleak.IgnoreTopFunction("github.com/rollbar/rollbar-go.NewAsyncTransport.func1"),
	)
}
