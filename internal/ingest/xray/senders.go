package xray

import (
	"sync"
	"time"

	"lookout/internal/sources"
	"lookout/internal/telemetry"
)

// senders tells the sources page about X-Ray clients. Requests to the X-Ray API are observed
// by the HTTP listener; datagrams have no request, so the daemon endpoint reports them here.
// It also notices an SDK sampling with its local fallback rule: when no segment of a service
// has named a centralized rule for a while, the SDK cannot reach lookout's sampling rules.
type senders struct {
	reg *sources.Registry // nil: nothing to report to

	mu       sync.Mutex
	services map[string]*sampled
}

// sampled is what senders remembers of a service's segments.
type sampled struct {
	first time.Time // its first segment
	ruled time.Time // when one of its segments last named a rule
}

// ruleGrace is how long an SDK may sample with its fallback rule before lookout says so: the
// SDKs fetch rules when they start, and sample the first requests without them.
const ruleGrace = 10 * time.Second

// maxRuledServices bounds what senders remembers.
const maxRuledServices = 1000

func (s *senders) stored(docs []*Document, now time.Time) {
	if s.reg == nil {
		return
	}
	for _, d := range docs {
		if d.via != ViaUDP || len(d.Spans) == 0 {
			continue
		}
		sp := &d.Spans[0]
		sender := sources.Sender{Protocol: "xray", SDK: sources.Spans.SDK(sp), Destination: sources.Spans.Destination(sp)}
		s.reg.Record(sender, len(d.Spans), 0, "")
		if !d.Independent {
			s.checkSampling(sender, sp, now)
		}
	}
}

func (s *senders) checkSampling(sender sources.Sender, segment *telemetry.Span, now time.Time) {
	service := segment.Service()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.services == nil {
		s.services = map[string]*sampled{}
	}
	st, ok := s.services[service]
	if !ok {
		if len(s.services) >= maxRuledServices {
			return
		}
		st = &sampled{first: now}
		s.services[service] = st
	}
	if rule, ok := segment.Attributes.Get(AttrSamplingRule); ok && rule.Str() != "" {
		st.ruled = now
		return
	}
	if now.Sub(st.first) < ruleGrace || now.Sub(st.ruled) < ruleGrace {
		return // starting up, or a request that came sampled by its caller
	}
	s.reg.Warn(sender, "fallback-sampling", "The X-Ray SDK of "+service+" sends segments that name no sampling rule: it "+
		"samples with its local fallback (the first request each second and 5% of the others), because it cannot "+
		"fetch lookout's sampling rules from the TCP side of its AWS_XRAY_DAEMON_ADDRESS. Check that address, or "+
		"whether the requests arrive already sampled by their caller.")
}

func (s *senders) refused(via, reason string) {
	if s.reg != nil && via == ViaUDP {
		s.reg.Record(sources.Sender{Protocol: "xray"}, 0, 1, reason)
	}
}
