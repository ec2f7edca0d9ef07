package telemetry

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"strconv"
)

// ValueKind is the type of an attribute value, following OpenTelemetry's AnyValue.
type ValueKind uint8

const (
	KindEmpty ValueKind = iota
	KindString
	KindBool
	KindInt
	KindDouble
	KindBytes
	KindArray
	KindMap
)

var kindNames = [...]string{"empty", "string", "bool", "int", "double", "bytes", "array", "map"}

func (k ValueKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Value is a typed attribute value. The zero Value is empty. Build values with the
// constructors; read them with the accessor matching Kind.
type Value struct {
	kind   ValueKind
	num    uint64  // bool, int and double bits
	str    string  // string, and bytes held as a string
	nested *nested // arrays and maps, kept behind a pointer so that scalars stay small
}

type nested struct {
	array []Value
	kvs   []KeyValue
}

func StringValue(s string) Value { return Value{kind: KindString, str: s} }
func BoolValue(b bool) Value {
	v := Value{kind: KindBool}
	if b {
		v.num = 1
	}
	return v
}
func IntValue(i int64) Value         { return Value{kind: KindInt, num: uint64(i)} }
func DoubleValue(f float64) Value    { return Value{kind: KindDouble, num: math.Float64bits(f)} }
func BytesValue(b []byte) Value      { return Value{kind: KindBytes, str: string(b)} }
func ArrayValue(vs ...Value) Value   { return Value{kind: KindArray, nested: &nested{array: vs}} }
func MapValue(kvs ...KeyValue) Value { return Value{kind: KindMap, nested: &nested{kvs: kvs}} }

func (v Value) Kind() ValueKind { return v.kind }
func (v Value) Str() string     { return v.str }
func (v Value) Bool() bool      { return v.num != 0 }
func (v Value) Int() int64      { return int64(v.num) }
func (v Value) Double() float64 { return math.Float64frombits(v.num) }
func (v Value) Bytes() []byte   { return []byte(v.str) }

// Array returns the elements of an array value.
func (v Value) Array() []Value {
	if v.nested == nil {
		return nil
	}
	return v.nested.array
}

// Map returns the entries of a map value.
func (v Value) Map() []KeyValue {
	if v.nested == nil {
		return nil
	}
	return v.nested.kvs
}

// Equal reports whether two values have the same kind and content.
func (v Value) Equal(o Value) bool {
	va, oa, vm, om := v.Array(), o.Array(), v.Map(), o.Map()
	if v.kind != o.kind || v.num != o.num || v.str != o.str || len(va) != len(oa) || len(vm) != len(om) {
		return false
	}
	for i := range va {
		if !va[i].Equal(oa[i]) {
			return false
		}
	}
	for i := range vm {
		if vm[i].Key != om[i].Key || !vm[i].Value.Equal(om[i].Value) {
			return false
		}
	}
	return true
}

// AsString renders the value as the text users read, search and group by: strings as they
// are, numbers in their shortest exact form, bytes in base64, arrays and maps as plain JSON.
func (v Value) AsString() string {
	switch v.kind {
	case KindArray, KindMap:
		b, _ := json.Marshal(v.Plain())
		return string(b)
	}
	return v.scalarText()
}

// Encode is AsString made lossless: arrays and maps keep the kind of every element, so that
// ParseValue(v.Kind(), v.Encode()) gives v back. Stores keep values in this form.
func (v Value) Encode() string {
	switch v.kind {
	case KindArray, KindMap:
		b, _ := json.Marshal(v.tagged())
		return string(b)
	}
	return v.scalarText()
}

func (v Value) scalarText() string {
	switch v.kind {
	case KindString:
		return v.str
	case KindBool:
		return strconv.FormatBool(v.Bool())
	case KindInt:
		return strconv.FormatInt(v.Int(), 10)
	case KindDouble:
		return strconv.FormatFloat(v.Double(), 'g', -1, 64)
	case KindBytes:
		return base64.StdEncoding.EncodeToString([]byte(v.str))
	}
	return ""
}

// Plain is the value as ordinary JSON would hold it (for encoding/json): strings, numbers and
// booleans as they are, bytes (and non-finite doubles) as text, arrays and maps as []any and
// map[string]any.
func (v Value) Plain() any {
	switch v.kind {
	case KindString:
		return v.str
	case KindBool:
		return v.Bool()
	case KindInt:
		return v.Int()
	case KindDouble:
		if f := v.Double(); !math.IsInf(f, 0) && !math.IsNaN(f) {
			return f
		}
		return v.scalarText()
	case KindArray:
		out := make([]any, len(v.Array()))
		for i, e := range v.Array() {
			out[i] = e.Plain()
		}
		return out
	case KindMap:
		out := make(map[string]any, len(v.Map()))
		for _, kv := range v.Map() {
			out[kv.Key] = kv.Value.Plain()
		}
		return out
	case KindBytes:
		return v.scalarText()
	}
	return nil
}

// ParseValue is the inverse of Encode for a known kind. It lets stores keep every value as
// text plus its kind and still give back exactly what was sent.
func ParseValue(kind ValueKind, s string) (Value, error) {
	switch kind {
	case KindEmpty:
		return Value{}, nil
	case KindString:
		return StringValue(s), nil
	case KindBool:
		b, err := strconv.ParseBool(s)
		return BoolValue(b), err
	case KindInt:
		i, err := strconv.ParseInt(s, 10, 64)
		return IntValue(i), err
	case KindDouble:
		f, err := strconv.ParseFloat(s, 64)
		return DoubleValue(f), err
	case KindBytes:
		b, err := base64.StdEncoding.DecodeString(s)
		return BytesValue(b), err
	case KindArray, KindMap:
		var raw jsonValue
		if err := json.Unmarshal([]byte(s), &raw); err != nil {
			return Value{}, err
		}
		v := raw.value()
		if v.kind != kind {
			return Value{}, errBadID
		}
		return v, nil
	}
	return Value{}, errBadID
}

// tagged is the JSON form Encode writes: {"a":[...]}, {"m":[{"k":..,"v":..}]} or {"<tag>":"text"}.
func (v Value) tagged() any {
	switch v.kind {
	case KindArray:
		out := make([]any, len(v.Array()))
		for i, e := range v.Array() {
			out[i] = e.tagged()
		}
		return map[string]any{"a": out}
	case KindMap:
		out := make([]any, len(v.Map()))
		for i, kv := range v.Map() {
			out[i] = map[string]any{"k": kv.Key, "v": kv.Value.tagged()}
		}
		return map[string]any{"m": out}
	case KindEmpty:
		return map[string]any{}
	}
	return map[string]any{kindTags[v.kind]: v.scalarText()}
}

// kindTags name scalar kinds in the JSON form of arrays and maps; jsonValue reads them back.
var kindTags = map[ValueKind]string{KindString: "st", KindBool: "bo", KindInt: "in", KindDouble: "do", KindBytes: "by"}

// jsonValue decodes the tagged JSON written by jsonable.
type jsonValue struct {
	A []jsonValue `json:"a"`
	M []struct {
		K string    `json:"k"`
		V jsonValue `json:"v"`
	} `json:"m"`
	St *string `json:"st"`
	Bo *string `json:"bo"`
	In *string `json:"in"`
	Do *string `json:"do"`
	By *string `json:"by"`
}

func (j jsonValue) value() Value {
	parse := func(k ValueKind, s string) Value { v, _ := ParseValue(k, s); return v }
	switch {
	case j.A != nil:
		vs := make([]Value, len(j.A))
		for i, e := range j.A {
			vs[i] = e.value()
		}
		return ArrayValue(vs...)
	case j.M != nil:
		kvs := make([]KeyValue, len(j.M))
		for i, e := range j.M {
			kvs[i] = KeyValue{Key: e.K, Value: e.V.value()}
		}
		return MapValue(kvs...)
	case j.St != nil:
		return StringValue(*j.St)
	case j.Bo != nil:
		return parse(KindBool, *j.Bo)
	case j.In != nil:
		return parse(KindInt, *j.In)
	case j.Do != nil:
		return parse(KindDouble, *j.Do)
	case j.By != nil:
		return parse(KindBytes, *j.By)
	}
	return Value{}
}

// KeyValue is one attribute.
type KeyValue struct {
	Key   string
	Value Value
}

// Attributes is an ordered attribute list, as sent. Keys are unique in well-formed input but
// receivers do not drop duplicates: the first occurrence wins on lookup.
type Attributes []KeyValue

// Get returns the value of the first attribute named key.
func (a Attributes) Get(key string) (Value, bool) {
	for _, kv := range a {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return Value{}, false
}
