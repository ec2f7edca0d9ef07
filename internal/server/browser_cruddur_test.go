package server_test

import (
	"context"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"lookout/internal/demo"
	"lookout/internal/ingest/xray"
	"lookout/internal/server"
)

// TestCruddurInTheBrowser runs lookout demo's Cruddur with its users, switches on its
// troubles one after another until lookout names each, and has the browser test find them
// from the UI: the Sources page's warnings, the item of a view that returned nothing and its
// trace, and the X-Ray map of Cruddur's services. Its screenshots are the demo's pages.
func TestCruddurInTheBrowser(t *testing.T) {
	needBrowser(t)
	srv := start(t, func(c *server.Config) {
		c.AuditEvery, c.ParentWait = 200*time.Millisecond, xray.SubsegmentHold+time.Second
	})
	base := "http://" + srv.Addrs().HTTP
	d, err := demo.Start(context.Background(), demo.Config{OTLP: base, VendorHTTP: base, XRayDaemon: srv.Addrs().XRay,
		WithoutHistory: true, UserInterval: 100 * time.Millisecond}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			d.Stop(context.Background())
		}
	})
	srv.ShowDemo(d)
	cruddur := d.CruddurURL()

	setTrouble(t, d, "test-key")
	waitWarning(t, srv, "two-keys", "receives data under 2 API keys", 20*time.Second, nil)
	setTrouble(t, d, "unended-segment")
	waitWarning(t, srv, "missing-parents", "arrived, but never the segment", 20*time.Second, nil)
	setTrouble(t, d, "no-rules")
	waitWarning(t, srv, "fallback-sampling", "", 30*time.Second, nil)
	setTrouble(t, d, "missing-return")
	failed := newTraceID()
	if status := visit(t, cruddur+"/api/activities/home", failed); status != http.StatusInternalServerError {
		t.Fatalf("home with missing-return: %d", status)
	}
	waitItem(t, srv, failed, "did not return a valid response")
	setTrouble(t, d, "none")
	// The users stop before the browser looks, so that lookout has loaded all they sent by the
	// time it shuts down; the page keeps what it saw.
	stopped = true
	if err := d.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}

	runBrowserTest(t, srv, "LOOKOUT_CRUDDUR_FAILED_TRACE_ID="+failed)
}
