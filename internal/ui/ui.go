// Package ui serves lookout's web UI: trace search and the trace waterfall.
//
// The UI is a single-page application written as plain HTML, CSS and native
// ES modules. There is no Node build step: the files under assets/ are
// embedded as they are, and the only third-party code is the minified
// Apache ECharts file in assets/vendor/ (see assets/vendor/README.md).
//
// Every piece of data the UI shows comes from the same-origin JSON API
// under /api/, which is mounted by someone else; the UI renders all of it as
// text (textContent, never innerHTML), and TestNoHTMLSinks keeps it that way.
package ui

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Only these patterns are embedded; the package.json that lets Node's test
// runner import assets/js and the vendor README stay out of the binary.
//
//go:embed assets/index.html assets/favicon.svg assets/css/*.css assets/js/*.js assets/vendor/*.js assets/vendor/*.txt
var files embed.FS

const (
	assetsPrefix = "/assets/"
	// indexAssetsPlaceholder is replaced in index.html by the versioned
	// assets URL prefix, e.g. /assets/0123456789abcdef.
	indexAssetsPlaceholder = "{{ASSETS}}"
	versionLen             = 16

	cacheImmutable  = "public, max-age=31536000, immutable"
	cacheRevalidate = "no-cache"

	// contentSecurityPolicy allows scripts, styles and connections to this
	// origin only: no inline script, no eval, no inline style attributes.
	contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; " +
		"img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; " +
		"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

// Handler returns the handler for the web UI. Mount it on "/" next to the API,
// which owns "/api/". It answers GET and HEAD:
//
//   - /assets/{path}: an embedded file with its content type, an ETag and
//     Cache-Control: no-cache (so a browser revalidates it), gzip-encoded when
//     the client accepts it; 404 if there is no such file.
//   - /assets/{version}/{path}: the same file, cached for a year as immutable.
//     index.html refers to assets this way, and ES module imports are relative,
//     so every file the page loads carries the version of the binary.
//   - /api/ and anything under it: 404 in the API's JSON error shape, since a
//     request that reaches this handler matched no API route.
//   - other paths that name a static file (/favicon.ico, /robots.txt): 404.
//   - anything else (/, /search, /trace/{id}): index.html, which routes on the
//     client, with preload links for the route's page (preload.go);
//     Cache-Control: no-cache.
//
// Every response carries a strict Content-Security-Policy (scripts and styles
// from this origin only), X-Content-Type-Options: nosniff and
// frame-ancestors 'none'.
func Handler() http.Handler {
	return loadSite()
}

// asset is one embedded file, ready to serve.
type asset struct {
	name        string // path inside assets/, e.g. "js/app.js"
	contentType string
	body        []byte
	etag        string
	compress    bool // worth gzipping: text, and large enough

	gzOnce sync.Once
	gzBody []byte // nil when gzip does not make it smaller
	gzETag string
}

type site struct {
	version string            // hex digest of every embedded file
	index   map[string]*asset // index.html by client route kind (routeKind), but "trace"
	// traceIndex is index.html for trace pages, its preload placeholder still in place
	// for the link to the trace of the request's path.
	traceIndex []byte
	assets     map[string]*asset // by path inside assets/
}

var loadSite = sync.OnceValue(func() *site {
	s, err := newSite(files)
	if err != nil {
		// The embedded files are fixed at build time; TestHandler covers this.
		panic("ui: " + err.Error())
	}
	return s
})

func newSite(fsys fs.FS) (*site, error) {
	s := &site{assets: map[string]*asset{}}
	all := sha256.New()
	err := fs.WalkDir(fsys, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "assets/")
		all.Write([]byte(name))
		all.Write([]byte{0})
		all.Write(body)
		s.assets[name] = newAsset(name, body)
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.version = hex.EncodeToString(all.Sum(nil))[:versionLen]

	tmpl, ok := s.assets["index.html"]
	if !ok {
		return nil, fs.ErrNotExist
	}
	delete(s.assets, "index.html") // only ever served through the SPA routes
	prefix := assetsPrefix + s.version
	html := bytes.ReplaceAll(tmpl.body, []byte(indexAssetsPlaceholder), []byte(prefix))
	withPreloads := func(kind, keep string) []byte {
		return bytes.Replace(html, []byte(indexPreloadPlaceholder), []byte(keep+preloadLinks(s.assets, prefix, kind)), 1)
	}
	s.index = map[string]*asset{}
	s.index[""] = newAsset("index.html", withPreloads("", ""))
	for kind := range pageModules {
		if kind != "trace" { // per trace: its page preloads the trace's data too
			s.index[kind] = newAsset("index.html", withPreloads(kind, ""))
		}
	}
	s.traceIndex = withPreloads("trace", indexPreloadPlaceholder)
	return s, nil
}

// indexFor returns index.html for the client route at path p.
func (s *site) indexFor(p string) *asset {
	kind := routeKind(p)
	if kind != "trace" {
		return s.index[kind]
	}
	return newAsset("index.html", bytes.Replace(s.traceIndex, []byte(indexPreloadPlaceholder), []byte(tracePreload(p)), 1))
}

func newAsset(name string, body []byte) *asset {
	sum := sha256.Sum256(body)
	ct, text := contentType(name)
	return &asset{
		name:        name,
		contentType: ct,
		body:        body,
		etag:        `"` + hex.EncodeToString(sum[:])[:versionLen] + `"`,
		compress:    text && len(body) >= 1024,
	}
}

// contentType maps the extensions the UI ships to their media types and
// whether they are text (so worth compressing). It does not consult the
// system's MIME tables, which differ between machines.
func contentType(name string) (ct string, text bool) {
	switch path.Ext(name) {
	case ".html":
		return "text/html; charset=utf-8", true
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8", true
	case ".css":
		return "text/css; charset=utf-8", true
	case ".svg":
		return "image/svg+xml", true
	case ".json", ".map":
		return "application/json", true
	case ".txt", ".md":
		return "text/plain; charset=utf-8", true
	case ".png":
		return "image/png", false
	case ".ico":
		return "image/x-icon", false
	case ".woff2":
		return "font/woff2", false
	}
	return "application/octet-stream", false
}

// gzipped returns the gzip encoding of the asset, or nil when that would not
// be smaller. It is computed on first use, so startup does not pay for it.
func (a *asset) gzipped() ([]byte, string) {
	a.gzOnce.Do(func() {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(a.body)
		zw.Close()
		if buf.Len() < len(a.body) {
			a.gzBody = buf.Bytes()
			a.gzETag = strings.TrimSuffix(a.etag, `"`) + `-gz"`
		}
	})
	return a.gzBody, a.gzETag
}

// staticExts are extensions that, outside /assets/, mean a request for a
// file rather than a client-side route; those get a 404, not index.html.
var staticExts = map[string]bool{
	".js": true, ".mjs": true, ".css": true, ".map": true, ".ico": true, ".png": true,
	".svg": true, ".txt": true, ".json": true, ".xml": true, ".webmanifest": true,
}

func (s *site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")

	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}

	p := r.URL.Path
	switch {
	case p == "/api" || strings.HasPrefix(p, "/api/"):
		// The API mux answered nothing for this path. Answer in its shape
		// rather than with HTML, which a client would fail to parse.
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"data":null,"errors":[{"code":404,"msg":"no such API endpoint"}]}` + "\n"))
	case strings.HasPrefix(p, assetsPrefix):
		s.serveAsset(w, r, strings.TrimPrefix(p, assetsPrefix))
	case staticExts[path.Ext(p)]:
		notFound(w)
	default:
		h.Set("Cache-Control", cacheRevalidate)
		s.serve(w, r, s.indexFor(p))
	}
}

func (s *site) serveAsset(w http.ResponseWriter, r *http.Request, name string) {
	cache := cacheRevalidate
	if v, rest, ok := strings.Cut(name, "/"); ok && isVersion(v) {
		name = rest
		if v == s.version {
			cache = cacheImmutable
		}
		// A stale version (a page loaded before an upgrade) gets today's
		// file, revalidated rather than cached for a year.
	}
	a, ok := s.assets[name]
	if !ok {
		notFound(w)
		return
	}
	w.Header().Set("Cache-Control", cache)
	s.serve(w, r, a)
}

func (s *site) serve(w http.ResponseWriter, r *http.Request, a *asset) {
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	body, etag := a.body, a.etag
	if a.compress {
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r.Header.Values("Accept-Encoding")) {
			if gz, gzETag := a.gzipped(); gz != nil {
				body, etag = gz, gzETag
				h.Set("Content-Encoding", "gzip")
			}
		}
	}
	h.Set("ETag", etag)
	// ServeContent answers If-None-Match with 304, HEAD and Range requests.
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

func notFound(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, "404 page not found", http.StatusNotFound)
}

func isVersion(s string) bool {
	if len(s) != versionLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// acceptsGzip reports whether Accept-Encoding header values allow gzip:
// "gzip" or "*" listed with a non-zero quality, and gzip not refused.
func acceptsGzip(values []string) bool {
	gzip, star := -1.0, -1.0
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			coding, params, _ := strings.Cut(part, ";")
			q := 1.0
			for _, param := range strings.Split(params, ";") {
				k, val, ok := strings.Cut(strings.TrimSpace(param), "=")
				if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
					if f, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
						q = f
					} else {
						q = 0
					}
				}
			}
			switch strings.ToLower(strings.TrimSpace(coding)) {
			case "gzip", "x-gzip":
				gzip = q
			case "*":
				star = q
			}
		}
	}
	if gzip >= 0 {
		return gzip > 0
	}
	return star > 0
}
