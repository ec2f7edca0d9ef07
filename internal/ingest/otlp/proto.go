package otlp

import (
	"errors"
	"fmt"
	"math"

	"github.com/VictoriaMetrics/easyproto"

	"lookout/internal/telemetry"
)

// The protobuf decoder reads the wire format with easyproto, field by field, straight into
// the model. It follows pdata's reading of OTLP wherever pdata accepts a message: a known
// field with the wrong wire type is an error, unknown fields are skipped, integers are
// truncated to their field's width, a message field sent twice is merged (its lists joined,
// its scalars overwritten), and strings are kept byte for byte, valid UTF-8 or not. Messages
// are read in two passes over their own fields, the first counting the lists so that each
// list takes one exact allocation. It is stricter than pdata in a few corners no OTLP sender
// reaches: deprecated group wire types and over-long varints are errors.

// Field numbers of the messages around the items, shared by every signal.
const (
	fieldResources          = 1    // Export*ServiceRequest.resource_{spans,logs}
	fieldResource           = 1    // Resource{Spans,Logs}.resource
	fieldScopes             = 2    // Resource{Spans,Logs}.scope_{spans,logs}
	fieldDeprecatedScopes   = 1000 // instrumentation_library_{spans,logs}, pre-1.0 senders
	fieldScope              = 1    // Scope{Spans,Logs}.scope
	fieldItems              = 2    // Scope{Spans,Logs}.{spans,log_records}
	fieldResourceAttributes = 1
	fieldResourceDropped    = 2
)

var errFieldZero = errors.New("field number 0 is not allowed")

// next reads the next field of src into fc.
func next(fc *easyproto.FieldContext, src []byte) ([]byte, error) {
	src, err := fc.NextField(src)
	if err == nil && fc.FieldNum == 0 {
		err = errFieldZero
	}
	return src, err
}

func wrongType(message, field string) error {
	return fmt.Errorf("%s.%s has the wrong wire type", message, field)
}

// protoRequest reads an Export{Trace,Logs}ServiceRequest into b.
func protoRequest[T any](b *batch[T], body []byte) error {
	n, err := countProtoItems(body)
	if err != nil {
		return err
	}
	if err := b.d.charge(n * sizeOf[T]()); err != nil {
		return err
	}
	b.items = make([]T, 0, n)
	var fc easyproto.FieldContext
	for src := body; len(src) > 0; {
		if src, err = next(&fc, src); err != nil {
			return err
		}
		if fc.FieldNum != fieldResources {
			continue
		}
		msg, ok := fc.MessageData()
		if !ok {
			return wrongType("request", "resource")
		}
		if err := protoResourceItems(b, msg); err != nil {
			return err
		}
	}
	return nil
}

// countProtoItems counts the items of a request, which is cheap (three levels of fields, the
// items themselves skipped), so that they take one allocation of the right size.
func countProtoItems(body []byte) (int, error) {
	n := 0
	err := eachMessage(body, fieldResources, func(rs []byte) error {
		field := uint32(fieldScopes)
		if !hasField(rs, fieldScopes) {
			field = fieldDeprecatedScopes
		}
		return eachMessage(rs, field, func(ss []byte) error {
			return eachMessage(ss, fieldItems, func([]byte) error { n++; return nil })
		})
	})
	return n, err
}

// eachMessage calls fn with every field numbered num of msg; such fields must be messages.
func eachMessage(msg []byte, num uint32, fn func([]byte) error) error {
	var fc easyproto.FieldContext
	for src := msg; len(src) > 0; {
		var err error
		if src, err = next(&fc, src); err != nil {
			return err
		}
		if fc.FieldNum != num {
			continue
		}
		data, ok := fc.MessageData()
		if !ok {
			return fmt.Errorf("field %d has the wrong wire type", num)
		}
		if err := fn(data); err != nil {
			return err
		}
	}
	return nil
}

// hasField reports whether msg has a field numbered num before any malformed field (which
// the caller reports when it reads msg).
func hasField(msg []byte, num uint32) bool {
	var fc easyproto.FieldContext
	for src := msg; len(src) > 0; {
		var err error
		if src, err = next(&fc, src); err != nil {
			return false
		}
		if fc.FieldNum == num {
			return true
		}
	}
	return false
}

// protoResourceItems reads a Resource{Spans,Logs}. Spans sent by pre-1.0 SDKs in the
// deprecated instrumentation_library_spans field count only when scope_spans is empty, as in
// pdata.
func protoResourceItems[T any](b *batch[T], msg []byte) error {
	var res telemetry.Resource
	deprecated := !hasField(msg, fieldScopes)
	var fc easyproto.FieldContext
	for src := msg; len(src) > 0; {
		var err error
		if src, err = next(&fc, src); err != nil {
			return err
		}
		switch fc.FieldNum {
		case fieldResource:
			data, ok := fc.MessageData()
			if !ok {
				return wrongType("resource", "resource")
			}
			if err := b.d.protoResource(&res, data); err != nil {
				return err
			}
		case fieldScopes, fieldDeprecatedScopes:
			if (fc.FieldNum == fieldDeprecatedScopes) != deprecated {
				continue
			}
			data, ok := fc.MessageData()
			if !ok {
				return wrongType("resource", "scope")
			}
			if err := protoScopeItems(b, data); err != nil {
				return err
			}
		}
	}
	return b.endResource(res)
}

func protoScopeItems[T any](b *batch[T], msg []byte) error {
	sr := b.beginScope()
	var fc easyproto.FieldContext
	for src := msg; len(src) > 0; {
		var err error
		if src, err = next(&fc, src); err != nil {
			return err
		}
		switch fc.FieldNum {
		case fieldScope:
			data, ok := fc.MessageData()
			if !ok {
				return wrongType("scope", "scope")
			}
			if err := b.d.protoScope(&sr.scope, data); err != nil {
				return err
			}
		case fieldItems:
			data, ok := fc.MessageData()
			if !ok {
				return wrongType("scope", b.sig.names().itemsPath)
			}
			item, err := b.addItem()
			if err != nil {
				return err
			}
			if err := b.sig.protoItem(b.d, item, data); err != nil {
				return err
			}
		}
	}
	b.endScope(sr)
	return nil
}

// protoResource reads a Resource into res, adding to what an earlier copy of the field set.
func (d *decoder) protoResource(res *telemetry.Resource, msg []byte) error {
	n, err := countFields(msg, fieldResourceAttributes)
	if err != nil {
		return err
	}
	attrs, err := d.kvs.take(d, n)
	if err != nil {
		return err
	}
	var fc easyproto.FieldContext
	i := 0
	for src := msg; len(src) > 0; {
		src, _ = fc.NextField(src) // read without error by countFields
		switch fc.FieldNum {
		case fieldResourceAttributes:
			if err := d.protoKeyValue(&attrs[i], &fc, 1); err != nil {
				return err
			}
			i++
		case fieldResourceDropped:
			v, ok := fc.Uint64()
			if !ok {
				return wrongType("resource", "dropped_attributes_count")
			}
			res.DroppedAttributesCount = uint32(v)
		}
	}
	res.Attributes, err = d.kvs.extend(d, res.Attributes, attrs)
	return err
}

// protoScope reads an InstrumentationScope into scope, adding to what an earlier copy of the
// field set.
func (d *decoder) protoScope(scope *telemetry.Scope, msg []byte) error {
	const fieldAttributes = 3
	n, err := countFields(msg, fieldAttributes)
	if err != nil {
		return err
	}
	attrs, err := d.kvs.take(d, n)
	if err != nil {
		return err
	}
	var fc easyproto.FieldContext
	i := 0
	for src := msg; len(src) > 0; {
		src, _ = fc.NextField(src)
		switch fc.FieldNum {
		case 1:
			if scope.Name, err = d.protoString(&fc, "scope", "name"); err != nil {
				return err
			}
		case 2:
			if scope.Version, err = d.protoString(&fc, "scope", "version"); err != nil {
				return err
			}
		case fieldAttributes:
			if err := d.protoKeyValue(&attrs[i], &fc, 1); err != nil {
				return err
			}
			i++
		case 4:
			v, ok := fc.Uint64()
			if !ok {
				return wrongType("scope", "dropped_attributes_count")
			}
			scope.DroppedAttributesCount = uint32(v)
		}
	}
	scope.Attributes, err = d.kvs.extend(d, scope.Attributes, attrs)
	return err
}

// countFields returns how many fields numbered num msg has, checking that all of msg reads.
func countFields(msg []byte, num uint32) (int, error) {
	var fc easyproto.FieldContext
	n := 0
	for src := msg; len(src) > 0; {
		var err error
		if src, err = next(&fc, src); err != nil {
			return 0, err
		}
		if fc.FieldNum == num {
			n++
		}
	}
	return n, nil
}

// protoKeyValue reads the KeyValue message in fc into kv; its value is at the given depth.
func (d *decoder) protoKeyValue(kv *telemetry.KeyValue, fc *easyproto.FieldContext, depth int) error {
	msg, ok := fc.MessageData()
	if !ok {
		return errors.New("an attribute has the wrong wire type")
	}
	if err := d.tick(); err != nil {
		return err
	}
	var f easyproto.FieldContext
	for src := msg; len(src) > 0; {
		var err error
		if src, err = next(&f, src); err != nil {
			return err
		}
		switch f.FieldNum {
		case 1:
			if kv.Key, err = d.protoString(&f, "attribute", "key"); err != nil {
				return err
			}
		case 2:
			data, ok := f.MessageData()
			if !ok {
				return wrongType("attribute", "value")
			}
			if err := d.protoValue(&kv.Value, data, depth); err != nil {
				return err
			}
		case 3: // key_strindex, used by profiles only
			if _, ok := f.Uint64(); !ok {
				return wrongType("attribute", "key_strindex")
			}
		}
	}
	return nil
}

// protoValue reads an AnyValue at the given depth (an attribute's value is at depth 1, a log
// body at 0) into v. An AnyValue that sets none of its fields leaves v as it was, as pdata
// does. A value deeper than telemetry.MaxValueDepth is not read: it is left empty, and its
// place in the array or map holding it is enough for validation to reject the item.
func (d *decoder) protoValue(v *telemetry.Value, msg []byte, depth int) error {
	if depth > telemetry.MaxValueDepth {
		return nil
	}
	if err := d.tick(); err != nil {
		return err
	}
	var fc easyproto.FieldContext
	for src := msg; len(src) > 0; {
		var err error
		if src, err = next(&fc, src); err != nil {
			return err
		}
		switch fc.FieldNum {
		case 1:
			s, err := d.protoString(&fc, "value", "string_value")
			if err != nil {
				return err
			}
			*v = telemetry.StringValue(s)
		case 2:
			b, ok := fc.Uint64()
			if !ok {
				return wrongType("value", "bool_value")
			}
			*v = telemetry.BoolValue(b != 0)
		case 3:
			i, ok := fc.Uint64()
			if !ok {
				return wrongType("value", "int_value")
			}
			*v = telemetry.IntValue(int64(i))
		case 4:
			f, ok := fc.Double()
			if !ok {
				return wrongType("value", "double_value")
			}
			*v = telemetry.DoubleValue(f)
		case 5:
			data, ok := fc.MessageData()
			if !ok {
				return wrongType("value", "array_value")
			}
			if *v, err = d.protoArray(data, depth); err != nil {
				return err
			}
		case 6:
			data, ok := fc.MessageData()
			if !ok {
				return wrongType("value", "kvlist_value")
			}
			if *v, err = d.protoKVList(data, depth); err != nil {
				return err
			}
		case 7:
			data, ok := fc.Bytes()
			if !ok {
				return wrongType("value", "bytes_value")
			}
			if *v, err = d.bytesValue(data); err != nil {
				return err
			}
		case 8: // string_value_strindex, used by profiles only: no value here
			if _, ok := fc.Uint64(); !ok {
				return wrongType("value", "string_value_strindex")
			}
			*v = telemetry.Value{}
		}
	}
	return nil
}

// protoArray reads an ArrayValue whose value is at depth; its elements are one deeper.
func (d *decoder) protoArray(msg []byte, depth int) (telemetry.Value, error) {
	n, err := countFields(msg, 1)
	if err != nil {
		return telemetry.Value{}, err
	}
	vs, err := d.values.take(d, n)
	if err != nil {
		return telemetry.Value{}, err
	}
	var fc easyproto.FieldContext
	i := 0
	for src := msg; len(src) > 0; {
		src, _ = fc.NextField(src)
		if fc.FieldNum != 1 {
			continue
		}
		data, ok := fc.MessageData()
		if !ok {
			return telemetry.Value{}, wrongType("array_value", "values")
		}
		if err := d.protoValue(&vs[i], data, depth+1); err != nil {
			return telemetry.Value{}, err
		}
		i++
	}
	return d.arrayValue(vs)
}

// protoKVList reads a KeyValueList whose value is at depth; its values are one deeper.
func (d *decoder) protoKVList(msg []byte, depth int) (telemetry.Value, error) {
	n, err := countFields(msg, 1)
	if err != nil {
		return telemetry.Value{}, err
	}
	kvs, err := d.kvs.take(d, n)
	if err != nil {
		return telemetry.Value{}, err
	}
	var fc easyproto.FieldContext
	i := 0
	for src := msg; len(src) > 0; {
		src, _ = fc.NextField(src)
		if fc.FieldNum != 1 {
			continue
		}
		if err := d.protoKeyValue(&kvs[i], &fc, depth+1); err != nil {
			return telemetry.Value{}, err
		}
		i++
	}
	return d.mapValue(kvs)
}

// protoString returns a copy of the string field in fc.
func (d *decoder) protoString(fc *easyproto.FieldContext, message, field string) (string, error) {
	b, ok := fc.Bytes()
	if !ok {
		return "", wrongType(message, field)
	}
	return d.copyString(b)
}

// protoID reads a trace or span id: empty (no id) or exactly len(dst) bytes.
func protoID(dst []byte, fc *easyproto.FieldContext, message, field string) error {
	b, ok := fc.Bytes()
	switch {
	case !ok:
		return wrongType(message, field)
	case len(b) == 0:
		clear(dst)
	case len(b) != len(dst):
		return fmt.Errorf("%s.%s has %d bytes, not %d", message, field, len(b), len(dst))
	default:
		copy(dst, b)
	}
	return nil
}

// protoTime reads a fixed64 time in nanoseconds.
func protoTime(fc *easyproto.FieldContext, message, field string) (int64, error) {
	t, ok := fc.Fixed64()
	if !ok {
		return 0, wrongType(message, field)
	}
	return unixNano(t), nil
}

// unixNano converts OTLP's unsigned nanoseconds to the model's signed ones. Times past 2262
// do not fit and are clamped rather than wrapped into negative (pre-1970) times.
func unixNano(t uint64) int64 {
	if t > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(t)
}
