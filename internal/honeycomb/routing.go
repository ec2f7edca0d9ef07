package honeycomb

import (
	"math"
	"strconv"
	"strings"

	"lookout/internal/telemetry"
)

// Honeycomb's clients send OTLP with an API key (x-honeycomb-team) and, for classic keys, a
// dataset (x-honeycomb-dataset). Honeycomb files each span under a dataset and weighs it by a
// sample rate; lookout does the same, so that Honeycomb's queries find what they expect.

// Header names through which Honeycomb's senders name their key and dataset.
const (
	HeaderTeam    = "x-honeycomb-team"
	HeaderDataset = "x-honeycomb-dataset"
)

// Sender is what the Honeycomb headers of a request say of its sender: the key reduced to a
// short sha256 prefix (enough to tell keys apart in routing and audits, useless to anyone
// who reads it), and the dataset, which counts only with a classic key, as in Honeycomb;
// other spans are filed by service (RouteByService).
func Sender(protocol, key, dataset string) telemetry.IngestInfo {
	info := telemetry.IngestInfo{Protocol: protocol}
	if key = strings.TrimSpace(key); key != "" {
		info.KeyID = KeyID(key)
		if IsClassicKey(key) {
			info.Dataset = strings.TrimSpace(dataset)
		}
	}
	return info
}

// Dataset names Honeycomb uses for spans whose service has no usable name.
const unknownServiceDataset = "unknown_service"

// RouteByService files spans as Honeycomb routes OTLP traces sent with an environment key (or,
// in lookout, with no key at all): each resource's spans go to the dataset named by its
// trimmed service.name. (A classic key's spans go to the dataset its sender named, which
// Sender records.)
func RouteByService(spans []telemetry.Span) {
	byResource := map[*telemetry.Resource]string{}
	for i := range spans {
		r := spans[i].Resource
		ds, ok := byResource[r]
		if !ok {
			ds = ServiceDataset(r)
			byResource[r] = ds
		}
		spans[i].Ingest.Dataset = ds
	}
}

// ServiceDataset is the dataset of a resource's spans under an environment key.
func ServiceDataset(r *telemetry.Resource) string {
	v, ok := r.Attributes.Get(telemetry.ServiceNameKey)
	if !ok || v.Kind() != telemetry.KindString {
		return unknownServiceDataset
	}
	name := strings.TrimSpace(v.Str())
	if name == "" || strings.HasPrefix(name, unknownServiceDataset) {
		return unknownServiceDataset
	}
	return name
}

// ApplySampleRates sets each span's sample rate as Honeycomb reads it: from a sampleRate (or
// SampleRate) attribute, which is then removed, else from the OpenTelemetry tracestate
// threshold, else 1 (left as 0, which means 1).
func ApplySampleRates(spans []telemetry.Span) {
	for i := range spans {
		sp := &spans[i]
		if rate, ok := takeSampleRateAttribute(sp); ok {
			sp.SampleRate = rate
		} else if rate, ok := thresholdSampleRate(sp.TraceState); ok {
			sp.SampleRate = rate
		}
	}
}

// takeSampleRateAttribute removes the span's sampleRate attribute (preferred) or SampleRate
// and returns its value: rounded, at least 1, at most MaxInt32.
func takeSampleRateAttribute(sp *telemetry.Span) (uint32, bool) {
	at := -1
	for i, kv := range sp.Attributes {
		if kv.Key == "sampleRate" {
			at = i
			break
		}
		if kv.Key == "SampleRate" && at < 0 {
			at = i
		}
	}
	if at < 0 {
		return 0, false
	}
	var f float64
	switch v := sp.Attributes[at].Value; v.Kind() {
	case telemetry.KindInt:
		f = float64(v.Int())
	case telemetry.KindDouble:
		f = v.Double()
	case telemetry.KindString:
		parsed, err := strconv.ParseFloat(strings.TrimSpace(v.Str()), 64)
		if err != nil {
			return 0, false
		}
		f = parsed
	default:
		return 0, false
	}
	sp.Attributes = append(sp.Attributes[:at:at], sp.Attributes[at+1:]...)
	return clampRate(f), true
}

func clampRate(f float64) uint32 {
	switch f = math.Round(f); {
	case math.IsNaN(f) || f <= 1:
		return 1
	case f >= math.MaxInt32:
		return math.MaxInt32
	}
	return uint32(f)
}

// thresholdSampleRate reads the OpenTelemetry sampling threshold from a tracestate
// ("ot=th:<hex>", or the older "th=<hex>"): the rejection threshold T in 56 bits, so the span
// stands for 2^56 / (2^56 - T) spans. The count is rounded to the nearest whole number.
func thresholdSampleRate(traceState string) (uint32, bool) {
	th := ""
	for member := range strings.SplitSeq(traceState, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(member), "=")
		switch k {
		case "ot":
			for field := range strings.SplitSeq(v, ";") {
				if fk, fv, ok := strings.Cut(field, ":"); ok && fk == "th" {
					th = fv
				}
			}
		case "th":
			if th == "" {
				th = v
			}
		}
	}
	if th == "" || len(th) > 14 {
		return 0, false
	}
	t, err := strconv.ParseUint(th+strings.Repeat("0", 14-len(th)), 16, 64)
	if err != nil {
		return 0, false
	}
	const full = 1 << 56
	if t >= full {
		return 0, false
	}
	return clampRate(full / float64(full-t)), true
}
