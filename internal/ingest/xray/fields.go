package xray

import (
	"strconv"
	"strings"

	"lookout/internal/telemetry"
)

// The mapping of a segment's fields to OpenTelemetry's attributes follows the OpenTelemetry
// Collector's X-Ray receiver, so that queries written for either find the same spans.

// httpAttrs maps the http object: request method, url, user agent, client ip, and the
// response's status and length.
func (b *builder) httpAttrs(a *attrs, v value) {
	h, ok := v.object()
	if !ok {
		return
	}
	if req, ok := h.find("request").object(); ok {
		a.str("http.method", req.str("method"))
		a.str("http.url", req.str("url"))
		a.str("http.user_agent", req.str("user_agent"))
		a.str("http.client_ip", req.str("client_ip"))
		if boolean(req.get("x_forwarded_for")) {
			a.add("aws.xray.x_forwarded_for", telemetry.BoolValue(true))
		}
		if boolean(req.get("traced")) {
			a.add("aws.xray.traced", telemetry.BoolValue(true))
		}
	}
	if resp, ok := h.find("response").object(); ok {
		a.integer("http.status_code", resp.get("status"))
		a.integer("http.response_content_length", resp.get("content_length"))
	}
}

// awsAttrs maps the aws object. A subsegment's (an AWS SDK call) keys become aws.<key>
// (aws.operation, aws.region, aws.table_name, ...); a segment's describe where it runs and
// become resource attributes (segmentResource), except its account and the sampling rule
// that sampled it (AttrSamplingRule).
func (b *builder) awsAttrs(a *attrs, v value, segment bool) {
	fields, ok := v.object()
	if !ok {
		return
	}
	if x, ok := fields.find("xray").object(); segment && ok {
		a.str(AttrSamplingRule, x.str("sampling_rule_name"))
	}
	for _, i := range b.sorted(fields) {
		m := fields.at(i)
		if segment && string(m.key()) != "account_id" {
			continue
		}
		key := "aws." + string(m.key())
		if key == "aws.retries" {
			key = "aws.xray.retries"
		}
		if v, ok := b.jsonValue(m, 0); ok {
			a.add(key, v)
		}
	}
}

// sqlAttrs maps the sql object to OpenTelemetry's database attributes.
func (b *builder) sqlAttrs(a *attrs, v value) {
	s, ok := v.object()
	if !ok {
		return
	}
	url := s.str("url")
	if url == "" {
		url = s.str("connection_string")
	}
	a.str("db.connection_string", url)
	a.str("db.system", s.str("database_type"))
	a.str("db.version", s.str("database_version"))
	a.str("db.statement", s.str("sanitized_query"))
	a.str("db.user", s.str("user"))
	a.str("aws.xray.sql.driver_version", s.str("driver_version"))
	a.str("aws.xray.sql.preparation", s.str("preparation"))
}

// annotationKey matches what X-Ray indexes as an annotation key: 1 to 500 ASCII letters,
// digits and underscores. (A regexp of it runs its slow NFA: a microsecond a key.)
var annotationKey annotationKeyMatcher

type annotationKeyMatcher struct{}

func (annotationKeyMatcher) MatchString(k string) bool {
	for i := range len(k) {
		if c := k[i]; !isDigit(c) && c != '_' && (c|0x20 < 'a' || c|0x20 > 'z') {
			return false
		}
	}
	return len(k) >= 1 && len(k) <= 500
}

// annotationAttrs adds each annotation as an attribute of its own, under its key, with its
// type: filter expressions (annotation.KEY) and queries find them like any attribute.
// Values that are not a string, number or boolean, and keys X-Ray would not index, are left
// in the document alone.
func (b *builder) annotationAttrs(a *attrs, v value) {
	fields, ok := v.object()
	if !ok {
		return
	}
	for _, i := range b.sorted(fields) {
		m := fields.at(i)
		if !annotationKey.MatchString(string(m.key())) {
			continue
		}
		if v, ok := b.jsonValue(m, 0); ok && v.Kind() != telemetry.KindArray && v.Kind() != telemetry.KindMap && v.Kind() != telemetry.KindEmpty {
			a.add(string(m.key()), v)
		}
	}
}

// causeEvents turns a cause into OpenTelemetry exception events, and returns the message of
// the first exception for the span's status. A cause that is an exception id (a reference to
// an exception recorded in another subsegment) has no events.
func (b *builder) causeEvents(v value, at int64) ([]telemetry.Event, string) {
	if id := v.text(); id != "" {
		return nil, "exception " + id
	}
	cause, ok := v.object()
	if !ok {
		return nil, ""
	}
	list, _ := cause.find("exceptions").items()
	var events []telemetry.Event
	msg := ""
	for i := range list.len() {
		e, ok := list.at(i).object()
		if !ok {
			continue
		}
		a := attrs{}
		a.str("exception.type", e.str("type"))
		a.str("exception.message", e.str("message"))
		a.str("exception.stacktrace", b.stackTrace(e))
		a.str("aws.xray.exception.id", e.str("id"))
		if boolean(e.get("remote")) {
			a.add("aws.xray.exception.remote", telemetry.BoolValue(true))
		}
		a.str("aws.xray.exception.cause", e.str("cause"))
		events = append(events, telemetry.Event{TimeUnixNano: at, Name: "exception", Attributes: a.list})
		if msg == "" {
			msg = e.str("message")
			if msg == "" {
				msg = e.str("type")
			}
		}
	}
	return events, msg
}

// stackTrace renders an exception's frames as the Collector does, Java style:
// "Type: message\n\tat label(path:line)".
func (b *builder) stackTrace(e object) string {
	frames, _ := e.find("stack").items()
	if frames.len() == 0 {
		return ""
	}
	var text strings.Builder
	text.WriteString(e.str("type"))
	if m := e.str("message"); m != "" {
		text.WriteString(": " + m)
	}
	for i := range frames.len() {
		fr, ok := frames.at(i).object()
		if !ok {
			continue
		}
		text.WriteString("\n\tat " + fr.str("label") + "(" + fr.str("path"))
		if line, ok := number(fr.get("line")); ok {
			text.WriteString(":" + strconv.FormatInt(int64(line), 10))
		}
		text.WriteString(")")
	}
	return text.String()
}

// segmentResource describes the service a segment comes from: its name, and where and with
// what it runs, with OpenTelemetry's resource attributes.
func (b *builder) segmentResource(fields object) *telemetry.Resource {
	a := attrs{list: make(telemetry.Attributes, 0, 8)}
	a.str(telemetry.ServiceNameKey, fields.str("name"))
	aws, isAWS := fields.find("aws").object()
	if isAWS {
		a.str("cloud.provider", "aws")
		a.str("cloud.account.id", aws.str("account_id"))
	}
	if svc, ok := fields.find("service").object(); ok {
		a.str("service.version", svc.str("version"))
		a.str("process.runtime.name", svc.str("runtime"))
		a.str("process.runtime.version", svc.str("runtime_version"))
	}
	if x, ok := aws.find("xray").object(); ok {
		a.str("telemetry.sdk.name", x.str("sdk"))
		a.str("telemetry.sdk.version", x.str("sdk_version"))
	}
	if ec2, ok := aws.find("ec2").object(); ok {
		a.str("host.id", ec2.str("instance_id"))
		a.str("host.type", ec2.str("instance_size"))
		a.str("host.image.id", ec2.str("ami_id"))
		a.str("cloud.availability_zone", ec2.str("availability_zone"))
	}
	if ecs, ok := aws.find("ecs").object(); ok {
		a.str("container.name", ecs.str("container"))
		a.str("container.id", ecs.str("container_id"))
	}
	if eb, ok := aws.find("elastic_beanstalk").object(); ok {
		a.str("service.namespace", eb.str("environment_name"))
		a.str("service.instance.id", strings.Trim(string(eb.get("deployment_id")), `"`))
	}
	if eks, ok := aws.find("eks").object(); ok {
		a.str("k8s.cluster.name", eks.str("cluster_name"))
		a.str("k8s.pod.name", eks.str("pod"))
		a.str("container.id", eks.str("container_id"))
	}
	a.str("cloud.platform", platforms[fields.str("origin")])
	a.str("aws.xray.resource_arn", fields.str("resource_arn"))
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
func (b *builder) jsonValue(v value, depth int) (telemetry.Value, bool) {
	raw := v.raw()
	if len(raw) == 0 || depth > telemetry.MaxValueDepth {
		return telemetry.Value{}, false
	}
	switch raw[0] {
	case '"':
		return telemetry.StringValue(v.text()), true
	case 't', 'f':
		return telemetry.BoolValue(boolean(raw)), true
	case 'n':
		return telemetry.Value{}, true
	case '[':
		items, _ := v.items()
		vs := make([]telemetry.Value, 0, items.len())
		for i := range items.len() {
			if item, ok := b.jsonValue(items.at(i), depth+1); ok {
				vs = append(vs, item)
			}
		}
		return telemetry.ArrayValue(vs...), true
	case '{':
		fields, _ := v.object()
		kvs := make([]telemetry.KeyValue, 0, fields.len())
		for _, i := range b.sorted(fields) {
			m := fields.at(i)
			if mv, ok := b.jsonValue(m, depth+1); ok {
				kvs = append(kvs, telemetry.KeyValue{Key: string(m.key()), Value: mv})
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
