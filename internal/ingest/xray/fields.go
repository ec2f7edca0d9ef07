package xray

import (
	"regexp"
	"strconv"
	"strings"

	"lookout/internal/telemetry"
)

// The mapping of a segment's fields to OpenTelemetry's attributes follows the OpenTelemetry
// Collector's X-Ray receiver, so that queries written for either find the same spans.

// httpAttrs maps the http object: request method, url, user agent, client ip, and the
// response's status and length.
func (b *builder) httpAttrs(a *attrs, raw []byte) {
	h, ok := b.parse(raw)
	if !ok {
		return
	}
	if req, ok := b.parse(h.get("request")); ok {
		a.str("http.method", str(req.get("method")))
		a.str("http.url", str(req.get("url")))
		a.str("http.user_agent", str(req.get("user_agent")))
		a.str("http.client_ip", str(req.get("client_ip")))
		if boolean(req.get("x_forwarded_for")) {
			a.add("aws.xray.x_forwarded_for", telemetry.BoolValue(true))
		}
		if boolean(req.get("traced")) {
			a.add("aws.xray.traced", telemetry.BoolValue(true))
		}
	}
	if resp, ok := b.parse(h.get("response")); ok {
		a.integer("http.status_code", resp.get("status"))
		a.integer("http.response_content_length", resp.get("content_length"))
	}
}

// awsAttrs maps the aws object. A subsegment's (an AWS SDK call) keys become aws.<key>
// (aws.operation, aws.region, aws.table_name, ...); a segment's describe where it runs and
// become resource attributes (segmentResource), except its account and the sampling rule
// that sampled it (AttrSamplingRule).
func (b *builder) awsAttrs(a *attrs, raw []byte, segment bool) {
	fields, ok := b.parse(raw)
	if !ok {
		return
	}
	if x, ok := b.parse(fields.get("xray")); segment && ok {
		a.str(AttrSamplingRule, str(x.get("sampling_rule_name")))
	}
	for _, i := range b.sorted(fields) {
		m := fields[i]
		if segment && string(m.key) != "account_id" {
			continue
		}
		key := "aws." + string(m.key)
		if key == "aws.retries" {
			key = "aws.xray.retries"
		}
		if v, ok := b.jsonValue(m.value, 0); ok {
			a.add(key, v)
		}
	}
}

// sqlAttrs maps the sql object to OpenTelemetry's database attributes.
func (b *builder) sqlAttrs(a *attrs, raw []byte) {
	s, ok := b.parse(raw)
	if !ok {
		return
	}
	url := str(s.get("url"))
	if url == "" {
		url = str(s.get("connection_string"))
	}
	a.str("db.connection_string", url)
	a.str("db.system", str(s.get("database_type")))
	a.str("db.version", str(s.get("database_version")))
	a.str("db.statement", str(s.get("sanitized_query")))
	a.str("db.user", str(s.get("user")))
	a.str("aws.xray.sql.driver_version", str(s.get("driver_version")))
	a.str("aws.xray.sql.preparation", str(s.get("preparation")))
}

// annotationKey is what X-Ray indexes as an annotation key.
var annotationKey = regexp.MustCompile(`^[A-Za-z0-9_]{1,500}$`)

// annotationAttrs adds each annotation as an attribute of its own, under its key, with its
// type: filter expressions (annotation.KEY) and queries find them like any attribute.
// Values that are not a string, number or boolean, and keys X-Ray would not index, are left
// in the document alone.
func (b *builder) annotationAttrs(a *attrs, raw []byte) {
	fields, ok := b.parse(raw)
	if !ok {
		return
	}
	for _, i := range b.sorted(fields) {
		m := fields[i]
		if !annotationKey.Match(m.key) {
			continue
		}
		if v, ok := b.jsonValue(m.value, 0); ok && v.Kind() != telemetry.KindArray && v.Kind() != telemetry.KindMap && v.Kind() != telemetry.KindEmpty {
			a.add(string(m.key), v)
		}
	}
}

// causeEvents turns a cause into OpenTelemetry exception events, and returns the message of
// the first exception for the span's status. A cause that is an exception id (a reference to
// an exception recorded in another subsegment) has no events.
func (b *builder) causeEvents(raw []byte, at int64) ([]telemetry.Event, string) {
	if id := str(raw); id != "" {
		return nil, "exception " + id
	}
	cause, ok := b.parse(raw)
	if !ok {
		return nil, ""
	}
	list, _ := elements(cause.get("exceptions"))
	var events []telemetry.Event
	msg := ""
	for _, item := range list {
		e, ok := b.parse(item)
		if !ok {
			continue
		}
		a := attrs{}
		a.str("exception.type", str(e.get("type")))
		a.str("exception.message", str(e.get("message")))
		a.str("exception.stacktrace", b.stackTrace(e))
		a.str("aws.xray.exception.id", str(e.get("id")))
		if boolean(e.get("remote")) {
			a.add("aws.xray.exception.remote", telemetry.BoolValue(true))
		}
		a.str("aws.xray.exception.cause", str(e.get("cause")))
		events = append(events, telemetry.Event{TimeUnixNano: at, Name: "exception", Attributes: a.list})
		if msg == "" {
			msg = str(e.get("message"))
			if msg == "" {
				msg = str(e.get("type"))
			}
		}
	}
	return events, msg
}

// stackTrace renders an exception's frames as the Collector does, Java style:
// "Type: message\n\tat label(path:line)".
func (b *builder) stackTrace(e object) string {
	frames, _ := elements(e.get("stack"))
	if len(frames) == 0 {
		return ""
	}
	var text strings.Builder
	text.WriteString(str(e.get("type")))
	if m := str(e.get("message")); m != "" {
		text.WriteString(": " + m)
	}
	for _, f := range frames {
		fr, ok := b.parse(f)
		if !ok {
			continue
		}
		text.WriteString("\n\tat " + str(fr.get("label")) + "(" + str(fr.get("path")))
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
	a.str(telemetry.ServiceNameKey, str(fields.get("name")))
	aws, isAWS := b.parse(fields.get("aws"))
	if isAWS {
		a.str("cloud.provider", "aws")
		a.str("cloud.account.id", str(aws.get("account_id")))
	}
	if svc, ok := b.parse(fields.get("service")); ok {
		a.str("service.version", str(svc.get("version")))
		a.str("process.runtime.name", str(svc.get("runtime")))
		a.str("process.runtime.version", str(svc.get("runtime_version")))
	}
	if x, ok := b.parse(aws.get("xray")); ok {
		a.str("telemetry.sdk.name", str(x.get("sdk")))
		a.str("telemetry.sdk.version", str(x.get("sdk_version")))
	}
	if ec2, ok := b.parse(aws.get("ec2")); ok {
		a.str("host.id", str(ec2.get("instance_id")))
		a.str("host.type", str(ec2.get("instance_size")))
		a.str("host.image.id", str(ec2.get("ami_id")))
		a.str("cloud.availability_zone", str(ec2.get("availability_zone")))
	}
	if ecs, ok := b.parse(aws.get("ecs")); ok {
		a.str("container.name", str(ecs.get("container")))
		a.str("container.id", str(ecs.get("container_id")))
	}
	if eb, ok := b.parse(aws.get("elastic_beanstalk")); ok {
		a.str("service.namespace", str(eb.get("environment_name")))
		a.str("service.instance.id", strings.Trim(string(eb.get("deployment_id")), `"`))
	}
	if eks, ok := b.parse(aws.get("eks")); ok {
		a.str("k8s.cluster.name", str(eks.get("cluster_name")))
		a.str("k8s.pod.name", str(eks.get("pod")))
		a.str("container.id", str(eks.get("container_id")))
	}
	a.str("cloud.platform", platforms[str(fields.get("origin"))])
	a.str("aws.xray.resource_arn", str(fields.get("resource_arn")))
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
func (b *builder) jsonValue(raw []byte, depth int) (telemetry.Value, bool) {
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
		items, ok := elements(raw)
		if !ok {
			return telemetry.Value{}, false
		}
		vs := make([]telemetry.Value, 0, len(items))
		for _, it := range items {
			if v, ok := b.jsonValue(it, depth+1); ok {
				vs = append(vs, v)
			}
		}
		return telemetry.ArrayValue(vs...), true
	case '{':
		fields, ok := b.parse(raw)
		if !ok {
			return telemetry.Value{}, false
		}
		kvs := make([]telemetry.KeyValue, 0, len(fields))
		for _, i := range b.sorted(fields) {
			m := fields[i]
			if v, ok := b.jsonValue(m.value, depth+1); ok {
				kvs = append(kvs, telemetry.KeyValue{Key: string(m.key), Value: v})
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
