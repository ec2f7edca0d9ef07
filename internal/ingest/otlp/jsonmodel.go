package otlp

import "lookout/internal/telemetry"

// jsonRequest reads an OTLP/JSON Export{Trace,Logs}ServiceRequest into b.
func jsonRequest[T any](b *batch[T], body []byte) error {
	j := &jsonDecoder{decoder: b.d, buf: body}
	names := b.sig.names()
	if j.object() {
		for n := 0; ; {
			key, ok := j.member(&n)
			if !ok {
				break
			}
			if !is(key, names.resources) {
				j.skip()
				continue
			}
			if j.array() {
				for n := 0; j.elem(&n); {
					jsonResourceItems(b, j)
				}
			}
		}
	}
	if j.peek() != 0 {
		j.syntax("unexpected data after the request")
	}
	return j.err
}

// is reports whether key is one of a field's two names.
func is(key []byte, names [2]string) bool {
	return string(key) == names[0] || string(key) == names[1]
}

// jsonResourceItems reads a Resource{Spans,Logs}.
func jsonResourceItems[T any](b *batch[T], j *jsonDecoder) {
	var res telemetry.Resource
	if j.object() {
		for n := 0; ; {
			key, ok := j.member(&n)
			if !ok {
				break
			}
			switch {
			case string(key) == "resource":
				j.resource(&res)
			case is(key, b.sig.names().scopes):
				if j.array() {
					for n := 0; j.elem(&n); {
						jsonScopeItems(b, j)
					}
				}
			default:
				j.skip()
			}
		}
	}
	if j.err == nil {
		j.check(b.endResource(res))
	}
}

// jsonScopeItems reads a Scope{Spans,Logs}.
func jsonScopeItems[T any](b *batch[T], j *jsonDecoder) {
	sr := b.beginScope()
	defer b.endScope(sr)
	if !j.object() {
		return
	}
	for n := 0; ; {
		key, ok := j.member(&n)
		if !ok {
			return
		}
		switch {
		case string(key) == "scope":
			j.scope(&sr.scope)
		case is(key, b.sig.names().items):
			if !j.array() {
				continue
			}
			for n := 0; j.elem(&n); {
				item, err := b.addItem()
				if err != nil {
					j.fail(err)
					return
				}
				b.sig.jsonItem(j, item)
			}
		default:
			j.skip()
		}
	}
}

// resource reads a Resource into res, adding to what an earlier copy of the field set.
func (j *jsonDecoder) resource(res *telemetry.Resource) {
	if !j.object() {
		return
	}
	for n := 0; ; {
		key, ok := j.member(&n)
		if !ok {
			return
		}
		switch string(key) {
		case "attributes":
			res.Attributes = j.attrs(res.Attributes, 1)
		case "droppedAttributesCount", "dropped_attributes_count":
			res.DroppedAttributesCount = uint32(j.unsigned(32))
		default:
			j.skip()
		}
	}
}

// scope reads an InstrumentationScope into scope, adding to what an earlier copy of the
// field set.
func (j *jsonDecoder) scope(scope *telemetry.Scope) {
	if !j.object() {
		return
	}
	for n := 0; ; {
		key, ok := j.member(&n)
		if !ok {
			return
		}
		switch string(key) {
		case "name":
			scope.Name = j.text()
		case "version":
			scope.Version = j.text()
		case "attributes":
			scope.Attributes = j.attrs(scope.Attributes, 1)
		case "droppedAttributesCount", "dropped_attributes_count":
			scope.DroppedAttributesCount = uint32(j.unsigned(32))
		default:
			j.skip()
		}
	}
}

// attrs reads a list of KeyValues whose values are at depth and returns dst followed by them.
func (j *jsonDecoder) attrs(dst telemetry.Attributes, depth int) telemetry.Attributes {
	if !j.array() {
		return dst
	}
	base := len(j.kvStack)
	for n := 0; j.elem(&n); {
		var kv telemetry.KeyValue
		j.keyValue(&kv, depth)
		j.check(push(j.decoder, &j.kvStack, kv))
	}
	out, err := j.kvs.extend(j.decoder, dst, j.kvStack[base:])
	j.check(err)
	j.kvStack = j.kvStack[:base]
	return out
}

func (j *jsonDecoder) keyValue(kv *telemetry.KeyValue, depth int) {
	if !j.object() {
		return
	}
	for n := 0; ; {
		key, ok := j.member(&n)
		if !ok {
			return
		}
		switch string(key) {
		case "key":
			kv.Key = j.text()
		case "value":
			j.value(&kv.Value, depth)
		case "keyStrindex", "key_strindex": // used by profiles only
			j.signed(32)
		default:
			j.skip()
		}
	}
}

// value reads an AnyValue at the given depth into v; see decoder.protoValue.
func (j *jsonDecoder) value(v *telemetry.Value, depth int) {
	if depth > telemetry.MaxValueDepth {
		j.skip()
		return
	}
	if !j.object() {
		return
	}
	for n := 0; ; {
		key, ok := j.member(&n)
		if !ok {
			return
		}
		switch string(key) {
		case "stringValue", "string_value":
			*v = telemetry.StringValue(j.text())
		case "boolValue", "bool_value":
			*v = telemetry.BoolValue(j.boolean())
		case "intValue", "int_value":
			*v = telemetry.IntValue(j.signed(64))
		case "doubleValue", "double_value":
			*v = telemetry.DoubleValue(j.float())
		case "arrayValue", "array_value":
			*v = j.arrayValue(depth)
		case "kvlistValue", "kvlist_value":
			*v = j.kvlistValue(depth)
		case "bytesValue", "bytes_value":
			*v = j.bytesValue()
		case "stringValueStrindex", "string_value_strindex": // used by profiles only: no value here
			j.signed(32)
			*v = telemetry.Value{}
		default:
			j.skip()
		}
	}
}

// arrayValue reads an ArrayValue whose value is at depth; null is an empty array, as pdata
// reads it.
func (j *jsonDecoder) arrayValue(depth int) telemetry.Value {
	var vs []telemetry.Value
	if j.object() {
		for n := 0; ; {
			key, ok := j.member(&n)
			if !ok {
				break
			}
			if string(key) != "values" {
				j.skip()
				continue
			}
			if !j.array() {
				continue
			}
			base := len(j.valueStack)
			for n := 0; j.elem(&n); {
				var e telemetry.Value
				j.value(&e, depth+1)
				j.check(push(j.decoder, &j.valueStack, e))
			}
			var err error
			vs, err = j.values.extend(j.decoder, vs, j.valueStack[base:])
			j.check(err)
			j.valueStack = j.valueStack[:base]
		}
	}
	v, err := j.decoder.arrayValue(vs)
	j.check(err)
	return v
}

// kvlistValue reads a KeyValueList whose value is at depth; null is an empty map.
func (j *jsonDecoder) kvlistValue(depth int) telemetry.Value {
	var kvs []telemetry.KeyValue
	if j.object() {
		for n := 0; ; {
			key, ok := j.member(&n)
			if !ok {
				break
			}
			if string(key) == "values" {
				kvs = j.attrs(kvs, depth+1)
			} else {
				j.skip()
			}
		}
	}
	v, err := j.mapValue(kvs)
	j.check(err)
	return v
}
