package xray

import (
	"slices"

	"lookout/internal/telemetry"
)

// serviceID names a node as the API does.
func serviceID(n *node) map[string]any {
	id := map[string]any{"Name": n.name, "Names": []string{n.name}}
	if n.typ != "" {
		id["Type"] = n.typ
	}
	return id
}

// summary is a trace's TraceSummary: its entry point's HTTP request and outcome, its
// services, users and annotations, and the services where its faults and errors begin.
func summary(v *view) map[string]any {
	root := v.root()
	code, fault, failed, _ := root.status()
	throttled := false
	var services, users, arns, instances []any
	seenService, seenUser, seenARN, seenInstance := map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
	annotations := map[string][]any{}
	for _, n := range v.nodes {
		if _, _, _, t := n.status(); t {
			throttled = true
		}
		if key := n.name + "\x00" + n.typ; !seenService[key] {
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
			if arn := resourceARN(sp); arn != "" && !seenARN[arn] {
				seenARN[arn] = true
				arns = append(arns, map[string]any{"ARN": arn})
			}
			if id := instanceID(sp.Resource); id != "" && !seenInstance[id] {
				seenInstance[id] = true
				instances = append(instances, map[string]any{"Id": id})
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
		"Id":              FormatTraceID(v.id),
		"StartTime":       epochSeconds(v.start),
		"Duration":        float64(v.end-v.start) / 1e9,
		"ResponseTime":    root.seconds(),
		"HasFault":        fault,
		"HasError":        failed,
		"HasThrottle":     throttled,
		"IsPartial":       v.partial,
		"Http":            httpInfo,
		"Annotations":     annotations,
		"Users":           orEmpty(users),
		"ServiceIds":      orEmpty(services),
		"ResourceARNs":    orEmpty(arns),
		"InstanceIds":     orEmpty(instances),
		"EntryPoint":      serviceID(root),
		"FaultRootCauses": rootCauses(v, func(n *node) bool { _, f, _, _ := n.status(); return f }),
		"ErrorRootCauses": rootCauses(v, func(n *node) bool { _, _, e, _ := n.status(); return e }),
		"Revision":        1,
	}
}

// resourceARN is the AWS resource a span's service runs as: a segment's resource_arn, or an
// OpenTelemetry resource's cloud.resource_id.
func resourceARN(sp *telemetry.Span) string {
	if v, ok := sp.Attributes.Get("aws.xray.resource_arn"); ok {
		return v.AsString()
	}
	if sp.Resource == nil {
		return ""
	}
	if v, ok := sp.Resource.Attributes.Get("aws.xray.resource_arn"); ok {
		return v.AsString()
	}
	if v, ok := sp.Resource.Attributes.Get("cloud.resource_id"); ok {
		return v.AsString()
	}
	return ""
}

// instanceID is the EC2 instance a service runs on: host.id of a resource on AWS, which a
// segment's aws.ec2.instance_id becomes, as do OpenTelemetry's EC2 resource detectors.
func instanceID(r *telemetry.Resource) string {
	if r == nil {
		return ""
	}
	if p, _ := r.Attributes.Get("cloud.provider"); p.AsString() != "aws" {
		return ""
	}
	id, _ := r.Attributes.Get("host.id")
	return id.AsString()
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

// rootCauses are the nodes where a failure begins: failing nodes none of whose callees
// fail, each with the path of calls from the entry point and its exceptions.
func rootCauses(v *view, failing func(*node) bool) []any {
	calleeFails := map[*node]bool{}
	for _, n := range v.nodes {
		if n.caller != nil && failing(n) {
			calleeFails[n.caller] = true
		}
	}
	out := []any{}
	for _, n := range v.nodes {
		if !failing(n) || calleeFails[n] {
			continue
		}
		var path []any
		for m := n; m != nil; m = m.caller {
			path = append(path, map[string]any{"Name": m.name, "Exceptions": nodeExceptions(m), "Remote": m.inferred})
		}
		slices.Reverse(path)
		svc := serviceID(n)
		svc["EntityPath"], svc["Inferred"] = path, n.inferred
		out = append(out, map[string]any{"Services": []any{svc}, "ClientImpacting": n.caller == nil || failing(v.root())})
	}
	return out
}

// nodeExceptions are the exceptions recorded on a node's spans.
func nodeExceptions(n *node) []any {
	out := []any{}
	for _, sp := range n.spans {
		for _, ev := range sp.Events {
			if ev.Name != "exception" {
				continue
			}
			typ, _ := ev.Attributes.Get("exception.type")
			msg, _ := ev.Attributes.Get("exception.message")
			out = append(out, map[string]any{"Name": typ.AsString(), "Message": msg.AsString()})
		}
	}
	return out
}
