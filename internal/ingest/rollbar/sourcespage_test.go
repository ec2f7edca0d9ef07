package rollbar

import (
	"testing"

	"lookout/internal/telemetry"
)

func TestNotifierNamesTheSDK(t *testing.T) {
	cases := map[string]string{
		`{"notifier":{"name":"pyrollbar","version":"1.4.0-beta"}}`:                                                                "pyrollbar 1.4.0-beta",
		`{"body":{"notifier":{"name":"x"}},"notifier":{"diagnostic":{"name":"y"},"name":"rollbar/rollbar-go","version":"1.2.0"}}`: "rollbar-go 1.2.0",
		`{"notifier":{"name":"node_rollbar"}}`:                                                                                    "node_rollbar",
		`{"notifier":"pyrollbar"}`:                                                                                                "",
		`{"custom":{"notifier":{"name":"not this one"}}}`:                                                                         "",
	}
	for data, want := range cases {
		if got := notifier(&telemetry.Occurrence{Data: data}); got != want {
			t.Errorf("notifier(%s) = %q, want %q", data, got, want)
		}
	}
	captured := map[string]string{"pyrollbar-flask.json": "pyrollbar 1.4.0-beta", "rollbar-go.json": "rollbar-go 1.2.0", "rollbar-js-node.json": "node_rollbar 3.1.0"}
	for file, want := range captured {
		p, err := DecodePayload(captures(t, file)[0].Body, false)
		if err != nil {
			t.Fatal(err)
		}
		if got := notifier(&telemetry.Occurrence{Data: string(p.Data)}); got != want {
			t.Errorf("%s: notifier %q, want %q", file, got, want)
		}
	}
}
