package xray

import "lookout/internal/telemetry"

// serviceID names a node as the API does.
func serviceID(n *node) map[string]any {
	id := map[string]any{"Name": n.name, "Names": []string{n.name}}
	if n.typ != "" {
		id["Type"] = n.typ
	}
	if a := n.account(); a != "" {
		id["AccountId"] = a
	}
	return id
}

// summary is a trace's TraceSummary: its entry point's HTTP request and outcome, its
// services, users and annotations, and where its faults, errors and response time begin.
func summary(v *view) map[string]any {
	root := v.root()
	code, fault, failed, _ := root.status()
	throttled := false
	var services, users []any
	seenService, seenUser := map[string]bool{}, map[string]bool{}
	annotations := map[string][]any{}
	for _, n := range v.nodes {
		if _, _, _, t := n.status(); t {
			throttled = true
		}
		if key := n.name + "\x00" + n.typ + "\x00" + n.account(); !seenService[key] {
			seenService[key] = true
			services = append(services, serviceID(n))
		}
		if n.inferred {
			continue
		}
		for _, sp := range n.spans {
			if u, ok := sp.Attributes.Get(AttrUser); ok && !seenUser[u.AsString()] {
				seenUser[u.AsString()] = true
				users = append(users, map[string]any{"UserName": u.AsString(), "ServiceIds": []any{serviceID(n)}})
			}
			for _, kv := range sp.Attributes {
				if annotationKey.MatchString(kv.Key) {
					annotations[kv.Key] = append(annotations[kv.Key], map[string]any{
						"AnnotationValue": annotationValue(kv.Value), "ServiceIds": []any{serviceID(n)}})
				}
			}
		}
	}
	httpInfo := map[string]any{}
	for field, key := range map[string]string{"HttpURL": "http.url", "HttpMethod": "http.method", "UserAgent": "http.user_agent", "ClientIp": "http.client_ip"} {
		if s, ok := httpAttr(root.span, key); ok {
			httpInfo[field] = s
		}
	}
	if code != 0 {
		httpInfo["HttpStatus"] = code
	}
	return map[string]any{
		"Id":                     FormatTraceID(v.id),
		"StartTime":              epochSeconds(v.start),
		"Duration":               float64(v.end-v.start) / 1e9,
		"ResponseTime":           root.seconds(),
		"HasFault":               fault,
		"HasError":               failed,
		"HasThrottle":            throttled,
		"IsPartial":              v.partial,
		"Http":                   httpInfo,
		"Annotations":            annotations,
		"Users":                  orEmpty(users),
		"ServiceIds":             orEmpty(services),
		"ResourceARNs":           named(v, "resource.arn", "ARN"),
		"InstanceIds":            named(v, "instance.id", "Id"),
		"AvailabilityZones":      named(v, "availabilityzone", "Name"),
		"EntryPoint":             serviceID(root),
		"FaultRootCauses":        apiRootCauses(v.rootCauses(causeFault), causeFault),
		"ErrorRootCauses":        apiRootCauses(v.rootCauses(causeError), causeError),
		"ResponseTimeRootCauses": apiRootCauses(v.rootCauses(causeResponseTime), causeResponseTime),
		"Revision":               1,
	}
}

// named lists where a trace's segments run as the filter keyword of the same name reads
// it, each value as {member: value}.
func named(v *view, keyword, member string) []any {
	out := []any{}
	for _, text := range segmentTexts(v.nodes, wholeTraceTexts[keyword]) {
		out = append(out, map[string]any{member: text})
	}
	return out
}

func orEmpty(list []any) []any {
	if list == nil {
		return []any{}
	}
	return list
}

// annotationValue is an attribute as X-Ray's AnnotationValue.
func annotationValue(v telemetry.Value) map[string]any {
	switch v.Kind() {
	case telemetry.KindBool:
		return map[string]any{"BooleanValue": v.Bool()}
	case telemetry.KindInt:
		return map[string]any{"NumberValue": float64(v.Int())}
	case telemetry.KindDouble:
		return map[string]any{"NumberValue": v.Double()}
	}
	return map[string]any{"StringValue": v.AsString()}
}
