package xray

import (
	"encoding/json"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"lookout/internal/telemetry"
)

// The mapping of a segment's fields to OpenTelemetry's attributes follows the OpenTelemetry
// Collector's X-Ray receiver, so that queries written for either find the same spans.

// httpAttrs maps the http object: request method, url, user agent, client ip, and the
// response's status and length.
func httpAttrs(a *attrs, raw json.RawMessage) {
	h, err := objectFields(raw)
	if err != nil {
		return
	}
	if req, err := objectFields(h["request"]); err == nil {
		a.str("http.method", str(req["method"]))
		a.str("http.url", str(req["url"]))
		a.str("http.user_agent", str(req["user_agent"]))
		a.str("http.client_ip", str(req["client_ip"]))
		if boolean(req["x_forwarded_for"]) {
			a.add("aws.xray.x_forwarded_for", telemetry.BoolValue(true))
		}
		if boolean(req["traced"]) {
			a.add("aws.xray.traced", telemetry.BoolValue(true))
		}
	}
	if resp, err := objectFields(h["response"]); err == nil {
		a.integer("http.status_code", resp["status"])
		a.integer("http.response_content_length", resp["content_length"])
	}
}

// awsAttrs maps the aws object. A subsegment's (an AWS SDK call) keys become aws.<key>
// (aws.operation, aws.region, aws.table_name, ...); a segment's describe where it runs and
// become resource attributes (segmentResource), except its account and the sampling rule
// that sampled it (AttrSamplingRule).
func awsAttrs(a *attrs, raw json.RawMessage, segment bool) {
	fields, err := objectFields(raw)
	if err != nil {
		return
	}
	if x, err := objectFields(fields["xray"]); segment && err == nil {
		a.str(AttrSamplingRule, str(x["sampling_rule_name"]))
	}
	for _, k := range sortedKeys(fields) {
		if segment && k != "account_id" {
			continue
		}
		key := "aws." + k
		if k == "retries" {
			key = "aws.xray.retries"
		}
		if v, ok := jsonValue(fields[k], 0); ok {
			a.add(key, v)
		}
	}
}

// sqlAttrs maps the sql object to OpenTelemetry's database attributes.
func sqlAttrs(a *attrs, raw json.RawMessage) {
	s, err := objectFields(raw)
	if err != nil {
		return
	}
	url := str(s["url"])
	if url == "" {
		url = str(s["connection_string"])
	}
	a.str("db.connection_string", url)
	a.str("db.system", str(s["database_type"]))
	a.str("db.version", str(s["database_version"]))
	a.str("db.statement", str(s["sanitized_query"]))
	a.str("db.user", str(s["user"]))
	a.str("aws.xray.sql.driver_version", str(s["driver_version"]))
	a.str("aws.xray.sql.preparation", str(s["preparation"]))
}

// annotationKey is what X-Ray indexes as an annotation key.
var annotationKey = regexp.MustCompile(`^[A-Za-z0-9_]{1,500}$`)

// annotationAttrs adds each annotation as an attribute of its own, under its key, with its
// type: filter expressions (annotation.KEY) and queries find them like any attribute.
// Values that are not a string, number or boolean, and keys X-Ray would not index, are left
// in the document alone.
func annotationAttrs(a *attrs, raw json.RawMessage) {
	fields, err := objectFields(raw)
	if err != nil {
		return
	}
	for _, k := range sortedKeys(fields) {
		if !annotationKey.MatchString(k) {
			continue
		}
		if v, ok := jsonValue(fields[k], 0); ok && v.Kind() != telemetry.KindArray && v.Kind() != telemetry.KindMap && v.Kind() != telemetry.KindEmpty {
			a.add(k, v)
		}
	}
}

// causeEvents turns a cause into OpenTelemetry exception events, and returns the message of
// the first exception for the span's status. A cause that is an exception id (a reference to
// an exception recorded in another subsegment) has no events.
func causeEvents(raw json.RawMessage, at int64) ([]telemetry.Event, string) {
	if id := str(raw); id != "" {
		return nil, "exception " + id
	}
	cause, err := objectFields(raw)
	if err != nil {
		return nil, ""
	}
	var exceptions []map[string]json.RawMessage
	var list []json.RawMessage
	if json.Unmarshal(cause["exceptions"], &list) == nil {
		for _, e := range list {
			if f, err := objectFields(e); err == nil {
				exceptions = append(exceptions, f)
			}
		}
	}
	var events []telemetry.Event
	msg := ""
	for _, e := range exceptions {
		a := attrs{}
		a.str("exception.type", str(e["type"]))
		a.str("exception.message", str(e["message"]))
		a.str("exception.stacktrace", stackTrace(e))
		a.str("aws.xray.exception.id", str(e["id"]))
		if boolean(e["remote"]) {
			a.add("aws.xray.exception.remote", telemetry.BoolValue(true))
		}
		a.str("aws.xray.exception.cause", str(e["cause"]))
		events = append(events, telemetry.Event{TimeUnixNano: at, Name: "exception", Attributes: a.list})
		if msg == "" {
			msg = str(e["message"])
			if msg == "" {
				msg = str(e["type"])
			}
		}
	}
	return events, msg
}

// stackTrace renders an exception's frames as the Collector does, Java style:
// "Type: message\n\tat label(path:line)".
func stackTrace(e map[string]json.RawMessage) string {
	var frames []json.RawMessage
	if json.Unmarshal(e["stack"], &frames) != nil || len(frames) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(str(e["type"]))
	if m := str(e["message"]); m != "" {
		b.WriteString(": " + m)
	}
	for _, f := range frames {
		fr, err := objectFields(f)
		if err != nil {
			continue
		}
		b.WriteString("\n\tat " + str(fr["label"]) + "(" + str(fr["path"]))
		if line, ok := number(fr["line"]); ok {
			b.WriteString(":" + strconv.FormatInt(int64(line), 10))
		}
		b.WriteString(")")
	}
	return b.String()
}

// segmentResource describes the service a segment comes from: its name, and where and with
// what it runs, with OpenTelemetry's resource attributes.
func segmentResource(fields map[string]json.RawMessage) *telemetry.Resource {
	a := attrs{}
	a.str(telemetry.ServiceNameKey, str(fields["name"]))
	aws, _ := objectFields(fields["aws"])
	if aws != nil {
		a.str("cloud.provider", "aws")
		a.str("cloud.account.id", str(aws["account_id"]))
	}
	if svc, err := objectFields(fields["service"]); err == nil {
		a.str("service.version", str(svc["version"]))
		a.str("process.runtime.name", str(svc["runtime"]))
		a.str("process.runtime.version", str(svc["runtime_version"]))
	}
	if x, err := objectFields(aws["xray"]); err == nil {
		a.str("telemetry.sdk.name", str(x["sdk"]))
		a.str("telemetry.sdk.version", str(x["sdk_version"]))
	}
	if ec2, err := objectFields(aws["ec2"]); err == nil {
		a.str("host.id", str(ec2["instance_id"]))
		a.str("host.type", str(ec2["instance_size"]))
		a.str("host.image.id", str(ec2["ami_id"]))
		a.str("cloud.availability_zone", str(ec2["availability_zone"]))
	}
	if ecs, err := objectFields(aws["ecs"]); err == nil {
		a.str("container.name", str(ecs["container"]))
		a.str("container.id", str(ecs["container_id"]))
	}
	if eb, err := objectFields(aws["elastic_beanstalk"]); err == nil {
		a.str("service.namespace", str(eb["environment_name"]))
		a.str("service.instance.id", strings.Trim(string(eb["deployment_id"]), `"`))
	}
	if eks, err := objectFields(aws["eks"]); err == nil {
		a.str("k8s.cluster.name", str(eks["cluster_name"]))
		a.str("k8s.pod.name", str(eks["pod"]))
		a.str("container.id", str(eks["container_id"]))
	}
	a.str("cloud.platform", platforms[str(fields["origin"])])
	a.str("aws.xray.resource_arn", str(fields["resource_arn"]))
	return &telemetry.Resource{Attributes: a.list}
}

// platforms maps X-Ray origins to OpenTelemetry's cloud.platform values.
var platforms = map[string]string{
	"AWS::EC2::Instance":                 "aws_ec2",
	"AWS::ECS::Container":                "aws_ecs",
	"AWS::ECS::EC2":                      "aws_ecs",
	"AWS::ECS::Fargate":                  "aws_ecs",
	"AWS::EKS::Container":                "aws_eks",
	"AWS::ElasticBeanstalk::Environment": "aws_elastic_beanstalk",
	"AWS::AppRunner::Service":            "aws_app_runner",
	"AWS::Lambda::Function":              "aws_lambda",
	"AWS::Lambda":                        "aws_lambda",
}

// jsonValue converts any JSON value to an attribute value of its type.
func jsonValue(raw json.RawMessage, depth int) (telemetry.Value, bool) {
	if len(raw) == 0 || depth > telemetry.MaxValueDepth {
		return telemetry.Value{}, false
	}
	switch raw[0] {
	case '"':
		return telemetry.StringValue(str(raw)), true
	case 't', 'f':
		return telemetry.BoolValue(boolean(raw)), true
	case 'n':
		return telemetry.Value{}, true
	case '[':
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) != nil {
			return telemetry.Value{}, false
		}
		vs := make([]telemetry.Value, 0, len(items))
		for _, it := range items {
			if v, ok := jsonValue(it, depth+1); ok {
				vs = append(vs, v)
			}
		}
		return telemetry.ArrayValue(vs...), true
	case '{':
		fields, err := objectFields(raw)
		if err != nil {
			return telemetry.Value{}, false
		}
		kvs := make([]telemetry.KeyValue, 0, len(fields))
		for _, k := range sortedKeys(fields) {
			if v, ok := jsonValue(fields[k], depth+1); ok {
				kvs = append(kvs, telemetry.KeyValue{Key: k, Value: v})
			}
		}
		return telemetry.MapValue(kvs...), true
	}
	if i, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
		return telemetry.IntValue(i), true
	}
	if f, ok := number(raw); ok {
		return telemetry.DoubleValue(f), true
	}
	return telemetry.Value{}, false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
