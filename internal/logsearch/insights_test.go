package logsearch

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// table is the rows TestInsightsQueries runs over, newest first, as the store hands them.
// Times are minutes past 2024-05-19 06:00 UTC.
func table() []Row {
	base := time.Date(2024, 5, 19, 6, 0, 0, 0, time.UTC).UnixMilli()
	lines := []struct {
		minute float64
		stream string
		msg    string
	}{
		{9.5, "web", `{"level":"ERROR","status":503,"path":"/api/home","ms":250,"user":{"id":"u1"},"tags":["a","b"]}`},
		{7, "web", `{"level":"INFO","status":200,"path":"/api/home","ms":12,"user":{"id":"u2"}}`},
		{6, "worker", `user=u3, method:GET took 40ms`},
		{4, "web", `{"level":"INFO","status":200,"path":"/api/other","ms":30,"user":{"id":"u1"}}`},
		{1, "web", `{"level":"WARN","status":404,"path":"/api/home","ms":8,"@id":"x"}`},
		{0.5, "worker", `user=u1, method:POST took 90ms`},
	}
	rows := make([]Row, len(lines))
	for i, l := range lines {
		rows[i] = Row{"@timestamp": Time(base + int64(l.minute*60_000)), "@message": l.msg, "@logStream": l.stream, "@log": "000000000000:app"}
		DiscoverJSON(l.msg, rows[i])
	}
	return rows
}

// render shows rows as lines of field=value in the query's fields (or the given ones).
func render(rows []Row, fields []string) []string {
	var out []string
	for _, r := range rows {
		var parts []string
		for _, f := range fields {
			if v, ok := r[f]; ok {
				parts = append(parts, f+"="+Render(v))
			}
		}
		out = append(out, strings.Join(parts, " "))
	}
	return out
}

func TestInsightsQueries(t *testing.T) {
	cases := []struct {
		query string
		want  []string
	}{
		{`fields status | filter status >= 400 | sort status asc`, []string{"status=404", "status=503"}},
		{`fields @timestamp, path | filter level = "INFO" and path like "other"`, []string{"@timestamp=2024-05-19 06:04:00.000 path=/api/other"}},
		{`fields path | filter path like /home$/ and not (status = 200)`, []string{"path=/api/home", "path=/api/home"}},
		{`fields level | filter level in ["WARN", "ERROR"]`, []string{"level=ERROR", "level=WARN"}},
		{`fields level | filter level not in ["WARN", "ERROR"] and ispresent(level)`, []string{"level=INFO", "level=INFO"}},
		{`fields @logStream | filter @message =~ /took \d+ms/ | sort @timestamp asc`, []string{"@logStream=worker", "@logStream=worker"}},
		{`fields user.id, tags.1, @@id | filter ispresent(tags.0) or ispresent(@@id)`, []string{"user.id=u1 tags.1=b", "@@id=x"}},
		{`stats count(*) as n, avg(ms) as avg, min(ms), max(ms), sum(ms) as total`, []string{"n=6 avg=75 min(ms)=8 max(ms)=250 total=300"}},
		{`filter ispresent(status) | stats count(*) as n by path | sort n desc`, []string{"path=/api/home n=3", "path=/api/other n=1"}},
		{`stats count(*) as n by bin(5m)`, []string{"bin(5m)=2024-05-19 06:00:00.000 n=3", "bin(5m)=2024-05-19 06:05:00.000 n=3"}},
		{`stats count_distinct(user.id) as users, pct(ms, 50) as p50, pct(ms, 100) as p100`, []string{"users=2 p50=12 p100=250"}},
		{`stats earliest(level) as first, latest(level) as last`, []string{"first=WARN last=ERROR"}},
		{`parse @message "user=*, method:* took *ms" as who, method, took | filter ispresent(who) | display who, method, took`, []string{"who=u3 method=GET took=40", "who=u1 method=POST took=90"}},
		{`parse @message /user=(?<who>\w+), method:(?<verb>[A-Z]+)/ | stats count(*) as n by verb | sort verb asc`, []string{"verb=GET n=1", "verb=POST n=1", "n=4"}}, // no value sorts last
		{`fields path | sort @timestamp asc | dedup path`, []string{"", "path=/api/home", "path=/api/other", ""}},
		{`fields status * 2 as double, strlen(path) as len, toupper(level) as up | filter status = 404`, []string{"double=808 len=9 up=WARN"}},
		{`fields path | sort ms desc | limit 2`, []string{"path=/api/home", "path=/api/other"}},
		{`fields path | filter ispresent(path) | sort @timestamp asc | dedup path`, []string{"path=/api/home", "path=/api/other"}},
		{"# a comment | not a command\nfields `user.id` | filter `user.id` = 'u2'", []string{"user.id=u2"}},
		{`stats sum(ms) as total by @logStream, level | filter total > 20 | sort total desc`, []string{"@logStream=web level=ERROR total=250", "@logStream=web level=INFO total=42"}},
	}
	for _, c := range cases {
		q, err := ParseQuery(c.query)
		if err != nil {
			t.Errorf("%s: %v", c.query, err)
			continue
		}
		fields := q.Fields()
		if strings.Contains(c.query, "by verb") { // rows without a verb have no verb field
			fields = []string{"verb", "n"}
		}
		rows, matched := q.Run(table())
		if got := render(rows, fields); !slices.Equal(got, c.want) {
			t.Errorf("%s:\n got %q\nwant %q", c.query, got, c.want)
		}
		// The same answer when the rows come a few at a time.
		for size := 1; size < 4; size++ {
			r, all := q.Start(0), table()
			for i := 0; i < len(all); i += size {
				r.Add(all[i:min(i+size, len(all))])
			}
			rows, n := r.Finish()
			if got := render(rows, fields); !slices.Equal(got, c.want) || n != matched {
				t.Errorf("%s, %d rows at a time:\n got %q (matched %d)\nwant %q (matched %d)", c.query, size, got, n, c.want, matched)
			}
		}
	}
}

func TestInsightsErrors(t *testing.T) {
	cases := []struct {
		query string
		at    int
	}{
		{`fields a | frobnicate`, 11},
		{`filter a = `, 11},
		{`stats median(a)`, 6},
		{`stats count(*) by`, 17},
		{`parse @message "* *" as a`, 15},
		{`parse @message /(a)/`, 15},
		{`filter a like b`, 14},
		{`limit 0`, 6},
		{`fields a b`, 9},
		{`filter nosuch(a)`, 7},
		{`stats count(*) by bin(5 parsecs)`, 24},
		{`stats count(*) by bin(5parsecs)`, 22},
		{`filter ` + strings.Repeat("(", 100) + `a` + strings.Repeat(")", 100), 71},
		{`filter a like /(/`, 15},
	}
	for _, c := range cases {
		_, err := ParseQuery(c.query)
		var pe *Error
		if !errors.As(err, &pe) {
			t.Errorf("%q: %v, want a syntax error", c.query, err)
			continue
		}
		if pe.Start != c.at {
			t.Errorf("%q: error at %d (%s), want at %d", c.query, pe.Start, pe.Msg, c.at)
		}
	}
}

func FuzzParseQuery(f *testing.F) {
	for _, q := range []string{`fields a, b as c | filter a > 1 and b like /x/ | stats count(*) as n, pct(a, 90) by bin(5m) | sort n desc | limit 5`,
		`parse @message "* - *" as a, b | dedup a | display a`, `filter not ispresent(x) or x in [1, "2"] | fields concat(a, "b") as c`} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, src string) {
		q, err := ParseQuery(src)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) || pe.Start < 0 || pe.End < pe.Start {
				t.Fatalf("%q: %v is not a syntax error", src, err)
			}
			return
		}
		q.Run(table())
		q.StatsPlan()
		q.MessageTexts()
	})
}

// TestNewestInBatches checks Query.Newest's promise: for the queries it accepts, running
// them a batch at a time and joining the answers gives what one run over every row gives.
func TestNewestInBatches(t *testing.T) {
	cases := []struct {
		query        string
		limit        int
		filtered, ok bool
	}{
		{`fields @timestamp, @message | sort @timestamp desc | limit 20`, 20, false, true},
		{`filter status >= 400 | fields path | limit 2`, 2, true, true},
		{`parse @message "user=*, method:* took *ms" as u, m, t | filter ispresent(u) | display u, t`, 0, true, true},
		{`fields status | sort @timestamp desc`, 0, false, true},
		{`fields path | sort @timestamp asc | limit 2`, 0, false, false},
		{`fields path | sort status desc | limit 2`, 0, false, false},
		{`limit 3 | filter status = 200`, 0, false, false},
		{`fields ms as @timestamp | limit 2`, 0, false, false},
		{`stats count(*) by bin(1m)`, 0, false, false},
		{`fields path | dedup path`, 0, false, false},
	}
	for _, tc := range cases {
		q, err := ParseQuery(tc.query)
		if err != nil {
			t.Fatalf("%s: %v", tc.query, err)
		}
		limit, filtered, ok := q.Newest()
		if limit != tc.limit || filtered != tc.filtered || ok != tc.ok {
			t.Errorf("%s: Newest() = %d, %v, %v; want %d, %v, %v", tc.query, limit, filtered, ok, tc.limit, tc.filtered, tc.ok)
		}
		if !ok {
			continue
		}
		whole, matched := q.Run(table())
		fields := append([]string{"@timestamp", "@message"}, q.Fields()...)
		for size := 1; size <= 4; size++ {
			rows := table()
			var joined []Row
			var n int
			for i := 0; i < len(rows); i += size {
				out, m := q.Run(rows[i:min(i+size, len(rows))])
				joined, n = append(joined, out...), n+m
			}
			if limit > 0 {
				joined = joined[:min(len(joined), limit)]
			}
			if !slices.Equal(render(joined, fields), render(whole, fields)) || n < matched {
				t.Errorf("%s in batches of %d: %q (matched %d), want %q (matched %d)", tc.query, size,
					render(joined, fields), n, render(whole, fields), matched)
			}
		}
	}
}
