package logsearch

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// messages are the lines every pattern of TestFilterPatterns runs over; each case names, by
// index, the ones it must match, worked out by reading the lines, not by running the code.
var messages = []string{
	0: `[2023-Mar-08 12:19] 172.18.0.1 GET http /api/activities/home? 200 OK`,
	1: `[2023-Mar-08 12:20] 172.18.0.1 POST http /api/activities 500 INTERNAL SERVER ERROR`,
	2: `ERROR Internal Error: timeout talking to db`,
	3: `WARN slow query took 1200 ms`,
	4: `{"level":"ERROR","status":503,"user":{"id":"u1","roles":["admin","dev"]},"latency":0.25,"ok":false,"trace":null}`,
	5: `{"level":"INFO","status":200,"user":{"id":"u2"},"latency":1.5e-3,"ok":true,"path":"/api/home.html"}`,
	6: `127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 404 2326`,
	7: `127.0.0.1 - - [10/Oct/2000:13:55:37 -0700] "GET /index.html HTTP/1.0" 200 1043`,
	8: `{"level":"ERROR","status":"500"}`,
	9: `UNAUTHORIZED REQUEST from 10.0.0.7`,
}

func TestFilterPatterns(t *testing.T) {
	cases := []struct {
		pattern string
		want    []int
	}{
		{``, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
		{`  " "  `, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
		// Terms: case-sensitive substrings, all required.
		{`ERROR`, []int{1, 2, 4, 8}},
		{`error`, nil},
		{`ERROR timeout`, []int{2}},
		{`"INTERNAL SERVER ERROR"`, []int{1}},
		{`"Internal Error"`, []int{2}},
		{`GET 200`, []int{0, 6, 7}}, // 6 holds 2000
		{`?WARN ?timeout`, []int{2, 3}},
		{`ERROR -timeout`, []int{1, 4, 8}},
		{`-ERROR -GET -level`, []int{3, 9}},
		{`ERROR ?WARN`, []int{1, 2, 4, 8}}, // ?-terms beside plain ones do not count
		{`%AUTHORIZED%`, []int{9}},
		{`%^\[2023-Mar-08 12:2[0-9]\]%`, []int{1}},
		{`%1[0-9]{3} ms%`, []int{3}},
		{`"\"GET /index"`, []int{7}},
		// JSON.
		{`{ $.level = "ERROR" }`, []int{4, 8}},
		{`{ $.status >= 500 }`, []int{4, 8}}, // a string that is a number compares as one
		{`{ $.status = 500 }`, []int{8}},
		{`{ $.status = "500" }`, []int{8}},
		{`{ $.status != 200 }`, []int{4, 8}},
		{`{ $.status = 5* }`, []int{4, 8}},
		{`{ $.user.id = "u*" && $.status < 300 }`, []int{5}},
		{`{ $.user.roles[1] = "dev" }`, []int{4}},
		{`{ $.user.roles = "admin" }`, nil}, // an array matches nothing
		{`{ $.latency < 0.01 }`, []int{5}},
		{`{ $.latency > 1e-1 }`, []int{4}},
		{`{ $.ok IS TRUE }`, []int{5}},
		{`{ $.ok IS FALSE || $.status = 500 }`, []int{4, 8}},
		{`{ $.trace IS NULL }`, []int{4}},
		{`{ $.path NOT EXISTS && $.level = "ERROR" }`, []int{4, 8}},
		{`{ ($.status = 200 || $.status = 503) && $.level = "INFO" }`, []int{5}},
		{`{ $.status = 200 || $.status = 503 && $.level = "INFO" }`, []int{5}}, // && binds tighter
		{`{ $.path = %\.html$% }`, []int{5}},
		{`{ $.level = * }`, []int{4, 5, 8}},
		// Space-delimited.
		{`[ip, id, user, timestamp, request, status_code = 4*, bytes]`, []int{6}},
		{`[ip, id, user, timestamp, request = *.html*, status_code, bytes > 1000]`, []int{7}},
		{`[..., status_code = 404 || status_code = 200, bytes]`, []int{0, 6, 7}},
		{`[..., status = 500, text1, text2, text3]`, []int{1}},
		{`[ts, ip, method = POST, ...]`, []int{1}},
		{`[ts, ip, method != GET && method != PUT, ...]`, []int{1, 2, 3, 6, 7, 9}}, // JSON lines are one field
		{`[w1 = ERROR || w1 = WARN, ...]`, []int{2, 3}},
		{`[w1, w2]`, nil},
		{`[level, word, ..., n > 1000, unit = ms]`, []int{3}},
		{`[..., status = %^5[0-9]{2}$%, ...]`, []int{1}},
		{`[ip, ..., code = 200, ...]`, []int{0, 7}},
	}
	for _, c := range cases {
		f, err := ParseFilter(c.pattern)
		if err != nil {
			t.Errorf("%s: %v", c.pattern, err)
			continue
		}
		var got []int
		for i, m := range messages {
			if f.Match(m) {
				got = append(got, i)
			}
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s matches %v, want %v", c.pattern, got, c.want)
		}
		for _, lit := range f.Literals() {
			for _, i := range c.want {
				if !strings.Contains(messages[i], lit) {
					t.Errorf("%s: literal %q is not in matching message %d", c.pattern, lit, i)
				}
			}
		}
	}
}

func TestFilterPatternErrors(t *testing.T) {
	cases := []struct {
		pattern string
		at      int // the offset the error points to
	}{
		{`"unclosed`, 0},
		{`ERROR %unclosed`, 6},
		{`%a(%`, 1},
		{`{ $.a = }`, 8},
		{`{ $.a = 1`, 9},
		{`{ $.a IS MAYBE }`, 6},
		{`{ a = 1 }`, 2},
		{`{ $.a = 1 } x`, 12},
		{`[a, b`, 5},
		{`[a = 1 && b = 2]`, 10},
		{`{ $.a[x] = 1 }`, 6},
		{`?`, 0},
		{strings.Repeat("a", 1025), 1024},
	}
	for _, c := range cases {
		_, err := ParseFilter(c.pattern)
		var pe *Error
		if !errors.As(err, &pe) {
			t.Errorf("%q: error %v, want a syntax error", c.pattern, err)
			continue
		}
		if pe.Start != c.at || pe.End < pe.Start || pe.Msg == "" {
			t.Errorf("%q: error at %d-%d (%s), want at %d", c.pattern, pe.Start, pe.End, pe.Msg, c.at)
		}
	}
}

// TestHostileFilterPatterns: patterns built to be slow (deep nesting, regular expression
// bombs, huge alternations, many ellipses) are refused or run in linear time.
func TestHostileFilterPatterns(t *testing.T) {
	long := strings.Repeat("a", 100_000)
	json := `{"a":"` + long + `"}`
	cases := []struct {
		pattern  string
		refused  bool
		messages []string
	}{
		{`{ ` + strings.Repeat("(", 100) + `$.a = 1` + strings.Repeat(")", 100) + ` }`, true, nil},
		{`{ ` + strings.Repeat("(", 60) + `$.a = 1` + strings.Repeat(")", 60) + ` }`, false, []string{json}},
		{`%(a+)+$%`, false, []string{long + "!"}},
		{`%(a|aa)*c%`, false, []string{long}},
		{`%(a*)*b%`, false, []string{long}},
		{`%a{1000}{1000}%`, true, nil},
		{`{ $.a = %(a+)+b% }`, false, []string{json}},
		{`{ $.a = "*a*a*a*a*a*a*a*a*a*a*a*a*b" }`, false, []string{json}},
		{strings.TrimSuffix(strings.Repeat("?x ", 340), " "), false, []string{long}},
		{`{ ` + strings.TrimSuffix(strings.Repeat("$.a = 1 || ", 90), " || ") + ` }`, false, []string{json}},
		{`[` + strings.TrimSuffix(strings.Repeat("..., a = b*, ", 70), ", ") + `]`, false, []string{strings.Repeat("a ", 50_000)}},
	}
	for _, c := range cases {
		begin := time.Now()
		f, err := ParseFilter(c.pattern)
		if c.refused != (err != nil) {
			t.Errorf("%.40s…: error %v, want refused=%v", c.pattern, err, c.refused)
			continue
		}
		for _, m := range c.messages {
			f.Match(m)
		}
		// Backtracking over 100,000 bytes, even quadratic work, takes far longer than this
		// bound, which leaves room for a busy machine (each case takes ~50 ms alone).
		if d := time.Since(begin); d > 2*time.Second {
			t.Errorf("%.40s…: took %v", c.pattern, d)
		}
	}
}

func FuzzParseFilter(f *testing.F) {
	for _, p := range []string{`ERROR ?WARN -DEBUG "a b" %x+%`, `{ ($.a.b[0] >= 1e3 || $.c = "x*") && $.d NOT EXISTS && $.e IS NULL }`,
		`[ip, ..., status = 5* || status = 429, bytes > 1000, r = %a%]`, `{ $.a = %b% }`} {
		f.Add(p, messages[4])
		f.Add(p, messages[6])
	}
	f.Fuzz(func(t *testing.T, pattern, msg string) {
		flt, err := ParseFilter(pattern)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) || pe.Start < 0 || pe.End < pe.Start || pe.Start > len(pattern) {
				t.Fatalf("%q: error %v is not a syntax error within the pattern", pattern, err)
			}
			return
		}
		matched := flt.Match(msg)
		for _, lit := range flt.Literals() {
			if matched && !strings.Contains(msg, lit) {
				t.Fatalf("%q matches %q without its literal %q", pattern, msg, lit)
			}
		}
	})
}
