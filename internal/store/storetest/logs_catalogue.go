package storetest

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"lookout/internal/store"
	"lookout/internal/telemetry"
)

// catalogue is the backend seen as a log catalogue; the suite runs these tests only on
// backends that have one.
func catalogue(s *handle) store.LogCatalogue { return s.Backend.(store.LogCatalogue) }

func mustDo(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// record is a log record of a stream with a string body, at base+offset.
func record(id uint64, group, stream string, offset time.Duration, body string) telemetry.LogRecord {
	return telemetry.LogRecord{ID: id, TimeUnixNano: at(offset), ObservedTimeUnixNano: at(offset + time.Second),
		Body: telemetry.StringValue(body), Resource: resource("app"), Group: group, Stream: stream,
		Ingest: telemetry.IngestInfo{Protocol: "cloudwatch"}}
}

func groupNames(groups []store.LogGroup) []string {
	var out []string
	for _, g := range groups {
		out = append(out, g.Name)
	}
	return out
}

func streamNames(streams []store.LogStream) []string {
	var out []string
	for _, st := range streams {
		out = append(out, st.Name)
	}
	return out
}

func testLogGroups(t *testing.T, b Backend) {
	s := open(t, b)
	c, ctx := catalogue(s), context.Background()
	for _, name := range []string{"cruddur", "Cruddur", "cruddur/api", "web", "a'; DROP TABLE logs; --"} {
		mustDo(t, "CreateLogGroup "+name, c.CreateLogGroup(ctx, name, nil))
	}
	if err := c.CreateLogGroup(ctx, "cruddur", nil); !errors.Is(err, store.ErrExists) {
		t.Fatalf("creating a group twice: %v, want ErrExists", err)
	}
	cases := []struct {
		name string
		q    store.LogGroupQuery
		want []string
	}{
		{"all, in byte order", store.LogGroupQuery{}, []string{"Cruddur", "a'; DROP TABLE logs; --", "cruddur", "cruddur/api", "web"}},
		{"prefix", store.LogGroupQuery{Prefix: "cruddur"}, []string{"cruddur", "cruddur/api"}},
		{"contains, case-sensitive", store.LogGroupQuery{Contains: "ruddur/"}, []string{"cruddur/api"}},
		{"names", store.LogGroupQuery{Names: []string{"web", "nope", "Cruddur"}}, []string{"Cruddur", "web"}},
		{"no names", store.LogGroupQuery{Names: []string{}}, nil},
		{"page", store.LogGroupQuery{Offset: 1, Limit: 2}, []string{"a'; DROP TABLE logs; --", "cruddur"}},
	}
	for _, tc := range cases {
		got, err := c.LogGroups(ctx, tc.q)
		mustDo(t, tc.name, err)
		if !slices.Equal(groupNames(got), tc.want) {
			t.Errorf("%s: got %q, want %q", tc.name, groupNames(got), tc.want)
		}
	}

	mustDo(t, "tag", c.TagLogGroup(ctx, "web", map[string]string{"team": "a", "env": "prod"}, nil))
	mustDo(t, "retag", c.TagLogGroup(ctx, "web", map[string]string{"team": "b"}, []string{"env", "absent"}))
	mustDo(t, "retention", c.SetLogRetention(ctx, "web", 14))
	got, err := c.LogGroups(ctx, store.LogGroupQuery{Names: []string{"web"}})
	mustDo(t, "LogGroups", err)
	if len(got) != 1 || !maps.Equal(got[0].Tags, map[string]string{"team": "b"}) || got[0].RetentionDays != 14 || got[0].Created.IsZero() {
		t.Fatalf("web after tagging and retention: %+v", got)
	}
	mustDo(t, "retention removed", c.SetLogRetention(ctx, "web", 0))
	for what, err := range map[string]error{
		"tag":       c.TagLogGroup(ctx, "nope", map[string]string{"a": "b"}, nil),
		"retention": c.SetLogRetention(ctx, "nope", 1),
		"delete":    c.DeleteLogGroup(ctx, "nope"),
		"stream":    c.CreateLogStream(ctx, "nope", "s"),
	} {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s of an unknown group: %v, want ErrNotFound", what, err)
		}
	}
	if _, err := c.LogStreams(ctx, store.LogStreamQuery{Group: "nope"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("streams of an unknown group: %v, want ErrNotFound", err)
	}
	mustDo(t, "delete", c.DeleteLogGroup(ctx, "a'; DROP TABLE logs; --"))
	got, err = c.LogGroups(ctx, store.LogGroupQuery{})
	mustDo(t, "LogGroups", err)
	if want := []string{"Cruddur", "cruddur", "cruddur/api", "web"}; !slices.Equal(groupNames(got), want) || got[3].RetentionDays != 0 {
		t.Fatalf("after delete: %+v", got)
	}
}

func testLogStreams(t *testing.T, b Backend) {
	s := open(t, b)
	c, ctx := catalogue(s), context.Background()
	mustDo(t, "group", c.CreateLogGroup(ctx, "cruddur", map[string]string{"app": "cruddur"}))
	for _, name := range []string{"h1//usr/bin/flask/app/7", "b-empty", "c"} {
		mustDo(t, "stream "+name, c.CreateLogStream(ctx, "cruddur", name))
	}
	if err := c.CreateLogStream(ctx, "cruddur", "c"); !errors.Is(err, store.ErrExists) {
		t.Fatalf("creating a stream twice: %v, want ErrExists", err)
	}
	records := []telemetry.LogRecord{
		record(1, "cruddur", "c", 5*time.Second, "five"),
		record(2, "cruddur", "h1//usr/bin/flask/app/7", 2*time.Second, "two ünï"),
		record(3, "cruddur", "c", time.Second, "one"),
		record(4, "cruddur", "h1//usr/bin/flask/app/7", 9*time.Second, "nine"),
		record(5, "otel-service", "host-1", 3*time.Second, "an OTLP record names a group of its own"),
	}
	writeLogs(t, s, records[:3])
	writeLogs(t, s, records[2:]) // a replay of record 3 counts once

	streams, err := c.LogStreams(ctx, store.LogStreamQuery{Group: "cruddur"})
	mustDo(t, "LogStreams", err)
	if want := []string{"b-empty", "c", "h1//usr/bin/flask/app/7"}; !slices.Equal(streamNames(streams), want) {
		t.Fatalf("streams by name: %q, want %q", streamNames(streams), want)
	}
	empty, cs, flask := streams[0], streams[1], streams[2]
	if empty.Records != 0 || !empty.FirstEvent.IsZero() || !empty.LastEvent.IsZero() || empty.Created.IsZero() {
		t.Errorf("empty stream: %+v", empty)
	}
	wantStream := func(got store.LogStream, first, last time.Duration, n, bytes int64) {
		t.Helper()
		if !got.FirstEvent.Equal(time.Unix(0, at(first))) || !got.LastEvent.Equal(time.Unix(0, at(last))) ||
			!got.LastIngestion.Equal(time.Unix(0, at(last+time.Second))) || got.Records != n || got.StoredBytes != bytes {
			t.Errorf("stream %s: %+v; want events %v..%v, %d records, %d bytes", got.Name, got, first, last, n, bytes)
		}
	}
	wantStream(cs, time.Second, 5*time.Second, 2, int64(len("five")+len("one")))
	wantStream(flask, 2*time.Second, 9*time.Second, 2, int64(len("two ünï")+len("nine")))

	order := func(q store.LogStreamQuery, want ...string) {
		t.Helper()
		q.Group = "cruddur"
		got, err := c.LogStreams(ctx, q)
		mustDo(t, "LogStreams", err)
		if !slices.Equal(streamNames(got), want) {
			t.Errorf("LogStreams(%+v) = %q, want %q", q, streamNames(got), want)
		}
	}
	order(store.LogStreamQuery{ByLastEvent: true, Descending: true}, "h1//usr/bin/flask/app/7", "c", "b-empty")
	order(store.LogStreamQuery{ByLastEvent: true}, "b-empty", "c", "h1//usr/bin/flask/app/7")
	order(store.LogStreamQuery{Descending: true, Limit: 2}, "h1//usr/bin/flask/app/7", "c")
	order(store.LogStreamQuery{Offset: 1}, "c", "h1//usr/bin/flask/app/7")
	order(store.LogStreamQuery{Prefix: "h1//"}, "h1//usr/bin/flask/app/7")
	order(store.LogStreamQuery{Name: "c"}, "c")
	order(store.LogStreamQuery{Name: "h1"})

	groups, err := c.LogGroups(ctx, store.LogGroupQuery{})
	mustDo(t, "LogGroups", err)
	if want := []string{"cruddur", "otel-service"}; !slices.Equal(groupNames(groups), want) {
		t.Fatalf("groups: %q, want %q (a written record creates its group)", groupNames(groups), want)
	}
	if g := groups[0]; g.Streams != 3 || g.Records != 4 || g.StoredBytes != cs.StoredBytes+flask.StoredBytes || !g.LastEvent.Equal(time.Unix(0, at(9*time.Second))) {
		t.Errorf("group totals: %+v", g)
	}

	mustDo(t, "note", c.NoteMissingStream(ctx, "cruddur", "h2/app/9", base))
	mustDo(t, "note for no group", c.NoteMissingStream(ctx, "nope", "x", base))
	groups, _ = c.LogGroups(ctx, store.LogGroupQuery{Names: []string{"cruddur"}})
	if groups[0].MissingStream != "h2/app/9" || !groups[0].MissingAt.Equal(base) {
		t.Errorf("missing stream note: %+v", groups[0])
	}

	mustDo(t, "delete stream", c.DeleteLogStream(ctx, "cruddur", "c"))
	if err := c.DeleteLogStream(ctx, "cruddur", "c"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleting a stream twice: %v, want ErrNotFound", err)
	}
	compareLogs(t, readLogs(t, s, store.LogQuery{Group: "cruddur", Limit: 100}), []telemetry.LogRecord{records[1], records[3]})
	mustDo(t, "delete group", c.DeleteLogGroup(ctx, "cruddur"))
	compareLogs(t, readLogs(t, s, store.LogQuery{Limit: 100}), []telemetry.LogRecord{records[4]})
}

func testLogGroupRetention(t *testing.T, b Backend) {
	s := open(t, b)
	c, ctx := catalogue(s), context.Background()
	mustDo(t, "group", c.CreateLogGroup(ctx, "kept", nil))
	mustDo(t, "group", c.CreateLogGroup(ctx, "short", nil))
	day := 24 * time.Hour
	records := []telemetry.LogRecord{
		record(1, "kept", "s", -10*day, "old but kept"),
		record(2, "short", "s", -3*day, "expired"),
		record(3, "short", "s", -12*time.Hour, "recent"),
		record(4, "short", "t", -2*day, "expired too"),
	}
	writeLogs(t, s, records)
	mustDo(t, "retention", c.SetLogRetention(ctx, "short", 1)) // removes what is older at once
	compareLogs(t, readLogs(t, s, store.LogQuery{Limit: 100}), []telemetry.LogRecord{records[0], records[2]})
	streams, err := c.LogStreams(ctx, store.LogStreamQuery{Group: "short"})
	mustDo(t, "LogStreams", err)
	if len(streams) != 2 || streams[0].Records != 1 || !streams[0].FirstEvent.Equal(time.Unix(0, records[2].TimeUnixNano)) || streams[1].Records != 0 || !streams[1].LastEvent.IsZero() {
		t.Errorf("streams after expiry: %+v", streams)
	}
	n, err := c.ExpireLogs(ctx, base.Add(2*day))
	mustDo(t, "ExpireLogs", err)
	if n != 1 {
		t.Errorf("ExpireLogs two days on removed %d records, want 1", n)
	}
	compareLogs(t, readLogs(t, s, store.LogQuery{Limit: 100}), records[:1])
}

func testLogPaging(t *testing.T, b Backend) {
	s := open(t, b)
	var all []telemetry.LogRecord
	for i := range 12 {
		// Pairs of records in the same instant: ID breaks the tie.
		r := record(uint64(100+i), "g", []string{"web/1", "web/2", "worker"}[i%3], time.Duration(i/2)*time.Second,
			[]string{"GET /home 200", `say "hi" 100%`, "POST /login 500"}[i%3])
		all = append(all, r)
	}
	all = append(all, telemetry.LogRecord{ID: 200, TimeUnixNano: at(time.Minute), ObservedTimeUnixNano: at(time.Minute),
		Body: telemetry.MapValue(telemetry.KeyValue{Key: "msg", Value: telemetry.StringValue("GET")}), Resource: resource("app"), Group: "g", Stream: "web/1"})
	writeLogs(t, s, all[6:])
	writeLogs(t, s, all[:6])
	exact := func(r *telemetry.LogRecord) bool { return r.Body.Kind() == telemetry.KindString }
	cases := []struct {
		name string
		q    store.LogQuery
		keep func(r *telemetry.LogRecord) bool
	}{
		{"streams", store.LogQuery{Streams: []string{"web/2", "worker"}}, func(r *telemetry.LogRecord) bool { return r.Stream != "web/1" }},
		{"stream prefix", store.LogQuery{StreamPrefix: "web/"}, func(r *telemetry.LogRecord) bool { return r.Stream != "worker" }},
		{"groups", store.LogQuery{Groups: []string{"nope", "g"}}, func(*telemetry.LogRecord) bool { return true }},
		{"contains", store.LogQuery{Contains: []string{"GET", " 200"}, Streams: []string{"web/1", "web/2"}}, func(r *telemetry.LogRecord) bool {
			return r.ID%3 == 100%3 && exact(r) || r.ID == 200 // a map body may come along
		}},
		{"contains quotes", store.LogQuery{Contains: []string{`"hi" 100%`}}, func(r *telemetry.LogRecord) bool { return r.ID%3 == 101%3 && exact(r) || r.ID == 200 }},
		{"after", store.LogQuery{After: &store.LogKey{TimeUnixNano: at(2 * time.Second), ID: 104}}, func(r *telemetry.LogRecord) bool { return r.ID > 104 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.q.Limit = 100
			got := readLogs(t, s, tc.q)
			want := selectLogs(all, tc.keep)
			if tc.name == "contains" || tc.name == "contains quotes" {
				got = slices.DeleteFunc(got, func(r telemetry.LogRecord) bool { return r.ID == 200 })
				want = slices.DeleteFunc(want, func(r telemetry.LogRecord) bool { return r.ID == 200 })
			}
			compareLogs(t, got, want)
		})
	}
	t.Run("pages both ways", func(t *testing.T) {
		for _, desc := range []bool{false, true} {
			var got []telemetry.LogRecord
			q := store.LogQuery{Limit: 5, Descending: desc}
			for {
				page := readLogs(t, s, q)
				if len(page) == 0 {
					break
				}
				got = append(got, page...)
				last := page[len(page)-1]
				q.After = &store.LogKey{TimeUnixNano: last.TimeUnixNano, ID: last.ID}
			}
			want := slices.Clone(all)
			if desc {
				slices.Reverse(want)
			}
			compareLogs(t, got, want)
		}
	})
}
