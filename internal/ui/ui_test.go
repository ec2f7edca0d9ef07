package ui

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

func get(t *testing.T, h http.Handler, method, target string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// versionedPrefix returns the /assets/{version} prefix that index.html uses.
func versionedPrefix(t *testing.T, h http.Handler) string {
	t.Helper()
	body := get(t, h, "GET", "/").Body.String()
	m := regexp.MustCompile(`src="(/assets/[0-9a-f]{16})/js/app\.js"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("index.html does not load a versioned app.js:\n%s", body)
	}
	return m[1]
}

func TestClientRoutesServeIndex(t *testing.T) {
	h := Handler()
	for _, target := range []string{"/", "/search", "/search?service=api&lookback=1h", "/trace/abc", "/trace/4bf92f3577b34da6a3ce929d0e0e4736?span=00f067aa0ba902b7", "/no/such/page"} {
		rec := get(t, h, "GET", target)
		if rec.Code != http.StatusOK {
			t.Errorf("GET %s: status %d, want 200", target, rec.Code)
			continue
		}
		if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("GET %s: Content-Type %q", target, ct)
		}
		if cc := rec.Header().Get("Cache-Control"); cc != "no-cache" {
			t.Errorf("GET %s: Cache-Control %q, want no-cache", target, cc)
		}
		body := rec.Body.String()
		if !strings.Contains(body, `<main id="main">`) || strings.Contains(body, "{{") {
			t.Errorf("GET %s: not the rendered index.html:\n%s", target, body)
		}
		csp := rec.Header().Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("GET %s: weak Content-Security-Policy %q", target, csp)
		}
		if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: no nosniff", target)
		}
	}
}

func TestAssetsContentTypesAndCaching(t *testing.T) {
	h := Handler()
	v := versionedPrefix(t, h)
	cases := map[string]string{
		"/js/app.js":                  "text/javascript; charset=utf-8",
		"/js/waterfall.js":            "text/javascript; charset=utf-8",
		"/css/app.css":                "text/css; charset=utf-8",
		"/vendor/echarts.min.js":      "text/javascript; charset=utf-8",
		"/vendor/echarts.LICENSE.txt": "text/plain; charset=utf-8",
		"/favicon.svg":                "image/svg+xml",
	}
	for name, wantCT := range cases {
		for _, prefix := range []string{"/assets", v} {
			rec := get(t, h, "GET", prefix+name)
			if rec.Code != http.StatusOK {
				t.Errorf("GET %s%s: status %d", prefix, name, rec.Code)
				continue
			}
			if ct := rec.Header().Get("Content-Type"); ct != wantCT {
				t.Errorf("GET %s%s: Content-Type %q, want %q", prefix, name, ct, wantCT)
			}
			wantCC := "no-cache"
			if prefix == v {
				wantCC = "public, max-age=31536000, immutable"
			}
			if cc := rec.Header().Get("Cache-Control"); cc != wantCC {
				t.Errorf("GET %s%s: Cache-Control %q, want %q", prefix, name, cc, wantCC)
			}
			if rec.Header().Get("ETag") == "" {
				t.Errorf("GET %s%s: no ETag", prefix, name)
			}
		}
	}

	// A stale version still gets the file, but not cached for good.
	rec := get(t, h, "GET", "/assets/0123456789abcdef/js/app.js")
	if rec.Code != http.StatusOK || rec.Header().Get("Cache-Control") != "no-cache" {
		t.Errorf("stale version: status %d, Cache-Control %q", rec.Code, rec.Header().Get("Cache-Control"))
	}

	// Revalidation.
	first := get(t, h, "GET", "/assets/js/app.js")
	again := get(t, h, "GET", "/assets/js/app.js", "If-None-Match", first.Header().Get("ETag"))
	if again.Code != http.StatusNotModified || again.Body.Len() != 0 {
		t.Errorf("If-None-Match: status %d, %d bytes; want 304 and none", again.Code, again.Body.Len())
	}

	// HEAD has the headers and no body.
	head := get(t, h, "HEAD", "/assets/css/app.css")
	if head.Code != http.StatusOK || head.Body.Len() != 0 || head.Header().Get("Content-Length") == "" {
		t.Errorf("HEAD: status %d, %d bytes, Content-Length %q", head.Code, head.Body.Len(), head.Header().Get("Content-Length"))
	}
}

func TestGzip(t *testing.T) {
	h := Handler()
	plain := get(t, h, "GET", "/assets/vendor/echarts.min.js")
	gz := get(t, h, "GET", "/assets/vendor/echarts.min.js", "Accept-Encoding", "br, gzip;q=0.8")
	if gz.Header().Get("Content-Encoding") != "gzip" || !strings.Contains(gz.Header().Get("Vary"), "Accept-Encoding") {
		t.Fatalf("no gzip: headers %v", gz.Header())
	}
	if gz.Body.Len() >= plain.Body.Len()/2 {
		t.Errorf("gzip body %d bytes for %d plain", gz.Body.Len(), plain.Body.Len())
	}
	if gz.Header().Get("ETag") == plain.Header().Get("ETag") {
		t.Error("the gzip and identity encodings share an ETag")
	}
	zr, err := gzip.NewReader(gz.Body)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, plain.Body.Bytes()) {
		t.Error("gzip body does not decompress to the file")
	}
	if refused := get(t, h, "GET", "/assets/vendor/echarts.min.js", "Accept-Encoding", "gzip;q=0, *"); refused.Header().Get("Content-Encoding") != "" {
		t.Error("gzip sent although refused with q=0")
	}
}

func TestAcceptsGzip(t *testing.T) {
	for header, want := range map[string]bool{
		"":                   false,
		"gzip":               true,
		"GZIP":               true,
		"deflate, gzip":      true,
		"br;q=1, gzip;q=0.5": true,
		"gzip;q=0":           false,
		"gzip; q=0.0":        false,
		"*":                  true,
		"*;q=0":              false,
		"gzip;q=0, *":        false,
		"identity":           false,
		"x-gzip":             true,
		"gzip;q=bogus":       false,
	} {
		if got := acceptsGzip([]string{header}); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", header, got, want)
		}
	}
}

func TestNotFound(t *testing.T) {
	h := Handler()
	v := versionedPrefix(t, h)
	for _, target := range []string{
		"/assets/nope.js", "/assets/js/nope.js", "/assets/js/", "/assets/", "/assets/index.html",
		"/assets/js/package.json", "/assets/vendor/README.md", v + "/nope.css",
		"/favicon.ico", "/robots.txt", "/app.js", "/trace/abc/app.js",
	} {
		rec := get(t, h, "GET", target)
		if rec.Code != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", target, rec.Code)
		}
		if strings.Contains(rec.Body.String(), "<html") {
			t.Errorf("GET %s: answered with HTML", target)
		}
	}
	rec := get(t, h, "GET", "/api/v9/nothing")
	if rec.Code != http.StatusNotFound || rec.Header().Get("Content-Type") != "application/json" ||
		!strings.Contains(rec.Body.String(), `"errors":[{"code":404`) {
		t.Errorf("GET /api/v9/nothing: %d %q %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	if rec := get(t, h, "POST", "/"); rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /: status %d, Allow %q", rec.Code, rec.Header().Get("Allow"))
	}
}

// TestReferencedFilesExist follows index.html and every relative import and
// URL in the UI's modules to an embedded file, so a typo fails here rather
// than in a browser.
func TestReferencedFilesExist(t *testing.T) {
	h := Handler()
	site := loadSite()
	index := get(t, h, "GET", "/").Body.String()
	refs := regexp.MustCompile(`(?:href|src)="/assets/[0-9a-f]{16}/([^"]+)"`).FindAllStringSubmatch(index, -1)
	if len(refs) < 3 {
		t.Fatalf("index.html references %d assets", len(refs))
	}
	for _, m := range refs {
		if _, ok := site.assets[m[1]]; !ok {
			t.Errorf("index.html references %s, which is not embedded", m[1])
		}
	}
	rel := regexp.MustCompile(`(?:from\s+|import\(\s*|new URL\(\s*)'(\.{1,2}/[^']+)'`)
	for name, a := range site.assets {
		if !strings.HasSuffix(name, ".js") || strings.HasPrefix(name, "vendor/") {
			continue
		}
		for _, m := range rel.FindAllStringSubmatch(string(a.body), -1) {
			target := path.Join(path.Dir(name), m[1])
			if _, ok := site.assets[target]; !ok {
				t.Errorf("%s refers to %s (%s), which is not embedded", name, m[1], target)
			}
		}
	}
}

// TestNoHTMLSinks keeps data out of HTML parsing: the UI's own modules never
// use innerHTML or any other API that parses a string as HTML or code. Data
// reaches the page only through textContent, text nodes and attributes
// (see dom.js). Whole-line comments are not code and are skipped.
func TestNoHTMLSinks(t *testing.T) {
	sinks := regexp.MustCompile(`\b(innerHTML|outerHTML|insertAdjacentHTML|createContextualFragment|setHTMLUnsafe|parseHTMLUnsafe|srcdoc|DOMParser|document\.write(ln)?|eval)\b|new\s+Function\b|\bon[a-z]+\s*=\s*['"` + "`" + `]`)
	comment := regexp.MustCompile(`^\s*(//|/\*|\*)`)
	names, err := fs.Glob(files, "assets/js/*.js")
	if err != nil || len(names) < 5 {
		t.Fatalf("glob: %v %v", names, err)
	}
	for _, name := range names {
		body, _ := fs.ReadFile(files, name)
		for i, line := range strings.Split(string(body), "\n") {
			if comment.MatchString(line) {
				continue
			}
			if m := sinks.FindString(line); m != "" {
				t.Errorf("%s:%d: %q parses a string as HTML or code; build nodes with h() and text instead:\n\t%s", name, i+1, m, strings.TrimSpace(line))
			}
		}
	}
	// The one place that sets attributes refuses javascript: and other
	// absolute URLs in href.
	dom, _ := fs.ReadFile(files, "assets/js/dom.js")
	if !strings.Contains(string(dom), "safeHref(v)") {
		t.Error("dom.js no longer routes href through safeHref")
	}
}

// TestJSUnit runs the unit tests of the UI's pure modules (jstest/) with
// Node's test runner, when node is installed.
func TestJSUnit(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	tests, _ := filepath.Glob(filepath.Join("jstest", "*.test.mjs"))
	if len(tests) == 0 {
		t.Fatal("no jstest/*.test.mjs")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append([]string{"--test", "--test-reporter=dot"}, tests...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node --test: %v\n%s", err, out)
	}
}

// TestIndexPreloadsThePage checks the links index.html gets for each client route: every
// module app.js and the route's page import, directly or not (followed here through the
// embedded files), and on a trace page the trace itself, when its ID is one.
func TestIndexPreloadsThePage(t *testing.T) {
	h := Handler()
	site := loadSite()
	imports := regexp.MustCompile(`(?m)^import[^;]*?'\./([a-z]+\.js)'`)
	closure := func(entries ...string) map[string]bool {
		seen := map[string]bool{}
		var visit func(string)
		visit = func(name string) {
			if seen[name] {
				return
			}
			seen[name] = true
			for _, m := range imports.FindAllStringSubmatch(string(site.assets["js/"+name].body), -1) {
				visit(m[1])
			}
		}
		for _, e := range entries {
			visit(e)
		}
		delete(seen, "app.js") // its script tag loads it
		return seen
	}
	preloaded := func(body string) map[string]bool {
		got := map[string]bool{}
		for _, m := range regexp.MustCompile(`<link rel="modulepreload" href="/assets/[0-9a-f]{16}/js/([a-z]+\.js)">`).FindAllStringSubmatch(body, -1) {
			got[m[1]] = true
		}
		return got
	}
	const id = "4bf92f3577b34da6a3ce929d0e0e4736"
	for target, page := range map[string]string{"/": "search.js", "/search": "search.js", "/query": "explore.js", "/trace/" + id: "trace.js", "/no/such/page": ""} {
		body := get(t, h, "GET", target).Body.String()
		want := closure("app.js")
		if page != "" {
			want = closure("app.js", page)
		}
		if got := preloaded(body); !reflect.DeepEqual(got, want) {
			t.Errorf("GET %s preloads %v, want %v", target, got, want)
		}
		hasTrace := strings.Contains(body, `<link rel="preload" href="/api/traces/`+id+`" as="fetch" crossorigin`)
		if hasTrace != (page == "trace.js") {
			t.Errorf("GET %s: trace preload %v", target, hasTrace)
		}
	}
	// A path that is no trace ID reaches the HTML in no form.
	for _, target := range []string{"/trace/%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E", "/trace/a.b", "/trace/" + strings.Repeat("a", 65)} {
		body := get(t, h, "GET", target).Body.String()
		if strings.Contains(body, `rel="preload"`) || strings.Count(body, "<script") != 1 {
			t.Errorf("GET %s: %s", target, body)
		}
	}
}
