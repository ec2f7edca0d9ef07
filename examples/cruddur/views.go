package cruddur

import (
	"fmt"
	"net/http"

	"github.com/aws/aws-xray-sdk-go/header"
	"github.com/aws/aws-xray-sdk-go/xray"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// ViewError is a view that did not produce a response, as Flask reports it.
type ViewError struct{ View string }

func (e *ViewError) Error() string {
	return fmt.Sprintf("The view function for %q did not return a valid response", e.View)
}

// home serves the home feed inside the custom span "home-activities-mock-data", logging to
// CloudWatch Logs as the bootcamp's data_home did.
func (s *Service) home(w http.ResponseWriter, r *http.Request) {
	s.logger().InfoContext(r.Context(), "Hello Cloudwatch! from  /api/activities/home")
	_, span := trace.SpanFromContext(r.Context()).TracerProvider().Tracer("home.activities").
		Start(r.Context(), "home-activities-mock-data")
	now := s.cfg.Now()
	data := homeActivities(now)
	span.SetAttributes(attribute.String("app.now", now.Format("2006-01-02T15:04:05.999999-07:00")),
		attribute.Int("app.result_length", len(data)))
	span.End()
	if s.troubles.get() == MissingReturn {
		// The view lost its return: Flask turns the None into a TypeError and a 500.
		panic(&ViewError{View: "data_home"})
	}
	writeJSON(w, http.StatusOK, data)
}

// userActivities reads a user's activities inside the X-Ray subsegment "mock-data", with the
// metadata and annotation the bootcamp added. Under the unended-segment trouble it begins a
// segment of its own, as some Cruddur forks did, and never ends it: the SDK never sends that
// segment, only the subsegment, streamed on its own as it ends.
func (s *Service) userActivities(r *http.Request) []activity {
	ctx := r.Context()
	now := s.cfg.Now()
	data := userActivities(now)
	switch {
	case s.troubles.get() == UnendedSegment && s.cfg.Instruments.XRay != nil:
		// Sampled as its request was. The request's context holds the recorder; the segment
		// is dropped when the request ends, never sent.
		decision := header.NotSampled
		if seg := xray.GetSegment(ctx); seg != nil && seg.Sampled {
			decision = header.Sampled
		}
		ctx, _ = xray.BeginSegmentWithSampling(ctx, "user_activities", r, &header.Header{SamplingDecision: decision}) // never ended
	case xray.GetSegment(ctx) == nil:
		return data
	}
	_, sub := xray.BeginSubsegment(ctx, "mock-data")
	sub.AddMetadataToNamespace("namespace", "key", map[string]any{"now": now.UTC().Format(rfc3339Micro), "results-size": len(data)})
	sub.AddAnnotation("results_size", len(data))
	if s.troubles.get() == UnendedSegment {
		sub.CloseAndStream(nil)
	} else {
		sub.Close(nil)
	}
	return data
}

const rfc3339Micro = "2006-01-02T15:04:05.999999Z07:00"
