package logsearch

import "testing"

func TestTraceRef(t *testing.T) {
	cases := []struct{ msg, trace, span string }{
		{`{"level":"ERROR","traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}`, "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"},
		{`GET /x trace_id=0af7651916cd43dd8448eb211c80319c span_id=b7ad6b7169203331 200`, "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"},
		{`{"traceId": "0AF7651916CD43DD8448EB211C80319C"}`, "0af7651916cd43dd8448eb211c80319c", "0000000000000000"},
		{`{"trace.id":"0af7651916cd43dd8448eb211c80319c","msg":"x"}`, "0af7651916cd43dd8448eb211c80319c", "0000000000000000"},
		{`X-Amzn-Trace-Id: Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1`, "5759e988bd862e3fe1be46a994272793", "53995c3f42cd8ad8"},
		{`"@xrayTraceId":"1-5f84c7a1-2b2c1f7e8c9d0a1b2c3d4e5f"`, "5f84c7a12b2c1f7e8c9d0a1b2c3d4e5f", "0000000000000000"},
		{`[2023-Mar-08 12:19] 172.18.0.1 GET http /api/activities/home? 200 OK`, "", ""},
		{`traceparent 00-00000000000000000000000000000000-00f067aa0ba902b7-01`, "", ""},
		{`trace_id=4bf92f3577b34da6a3ce929d0e0e47361`, "", ""}, // 33 digits: not an id
	}
	for _, c := range cases {
		tr, sp, ok := TraceRef(c.msg)
		if ok != (c.trace != "") || (ok && (tr.String() != c.trace || sp.String() != c.span)) {
			t.Errorf("%s: %v %v %v, want %q %q", c.msg, tr, sp, ok, c.trace, c.span)
		}
	}
}
