package telemetry

import "testing"

func TestResourceSet(t *testing.T) {
	res := func(dropped uint32, kvs ...KeyValue) *Resource {
		return &Resource{Attributes: kvs, DroppedAttributesCount: dropped}
	}
	name := func(v string) KeyValue { return KeyValue{Key: ServiceNameKey, Value: StringValue(v)} }
	a1 := res(0, name("api"), KeyValue{Key: "host", Value: StringValue("h1")})
	a2 := res(0, name("api"), KeyValue{Key: "host", Value: StringValue("h1")}) // a1 again
	b := res(0, name("api"), KeyValue{Key: "host", Value: StringValue("h2")})
	c := res(1, name("api"), KeyValue{Key: "host", Value: StringValue("h1")}) // a1, but dropped one
	d := res(0, name("api"), KeyValue{Key: "hos", Value: StringValue("th1")}) // the same letters, split elsewhere
	e := res(0, name("api"), KeyValue{Key: "host", Value: IntValue(1)})       // an int
	f := res(0, name("api"), KeyValue{Key: "host", Value: StringValue("1")})  // a string of it
	n1 := res(0, KeyValue{Key: "tags", Value: ArrayValue(StringValue("x"))})  // arrays are left alone
	n2 := res(0, KeyValue{Key: "tags", Value: ArrayValue(StringValue("x"))})
	a3 := res(0, name("api"), KeyValue{Key: "host", Value: StringValue("h1")})
	spans := []Span{{Resource: a1}, {Resource: a2}, {Resource: b}, {Resource: c}, {Resource: d}, {Resource: e}, {Resource: f}, {Resource: n1}, {Resource: n2}, {Resource: nil}, {Resource: a3}}
	var set ResourceSet
	for i := range spans {
		spans[i].Resource = set.Share(spans[i].Resource)
	}
	want := []*Resource{a1, a1, b, c, d, e, f, n1, n2, nil, a1}
	for i := range spans {
		if spans[i].Resource != want[i] {
			t.Errorf("span %d: resource %p, want %p", i, spans[i].Resource, want[i])
		}
	}
}
