// Package testtool lets tests run the clients lookout's users run (python3 with its SDKs,
// node and npm packages, the AWS CLI). A missing client skips the test, except under
// scripts/test, which installs every client and sets LOOKOUT_REQUIRE_TOOLS, so that there a
// missing client fails the test instead of hiding it.
package testtool

import (
	"os"
	"os/exec"
	"testing"
)

// Need skips or fails t when err, the outcome of looking for a client, is not nil; what says
// what the test needs.
func Need(t testing.TB, err error, what string) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("LOOKOUT_REQUIRE_TOOLS") != "" {
		t.Fatalf("%s: %v", what, err)
	}
	t.Skipf("%s: %v", what, err)
}

// Path returns the path of the program name, as Need when it is missing.
func Path(t testing.TB, name, what string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	Need(t, err, what)
	return path
}
