package ui

import (
	"path"
	"regexp"
	"slices"
	"strings"
)

// The index page's <head> lists what the page at its route needs first, so that the browser
// asks for all of it at once instead of finding it import by import: the modules of app.js
// and of the route's page (modulepreload links) and, on a trace page, the trace itself (a
// fetch preload, which the page's own request for it then uses).

// indexPreloadPlaceholder is replaced in index.html by the route's preload links.
const indexPreloadPlaceholder = "{{PRELOAD}}"

// pageModules are the page modules app.js imports on demand, by the client route they draw.
var pageModules = map[string]string{"search": "js/search.js", "trace": "js/trace.js", "query": "js/explore.js",
	"xray": "js/xray.js", "errors": "js/errors.js", "error": "js/erroritem.js", "logs": "js/logs.js", "sources": "js/sources.js",
	"insights": "js/insights.js", "access": "js/erroraccess.js"}

// errorItemRoute matches an error item page's path.
var errorItemRoute = regexp.MustCompile(`^/errors/[0-9]{1,18}/?$`)

// staticImport matches a module's static imports of sibling modules; import() is not one.
var staticImport = regexp.MustCompile(`(?m)^import\s+(?:[^;']*?\sfrom\s+)?'\./([^']+\.js)'`)

// traceRoute matches the trace page's path and captures an ID the API could know: what
// app.js accepts as a trace ID, so nothing else reaches the HTML.
var traceRoute = regexp.MustCompile(`^/trace/([0-9A-Za-z-]{1,64})/?$`)

// routeKind names the client route of a path as app.js resolves it; "" for none.
func routeKind(p string) string {
	switch {
	case p == "/" || p == "/search" || p == "/search/":
		return "search"
	case p == "/query" || p == "/query/":
		return "query"
	case p == "/xray" || p == "/xray/":
		return "xray"
	case p == "/logs" || strings.HasPrefix(p, "/logs/"):
		return "logs"
	case p == "/sources" || p == "/sources/":
		return "sources"
	case p == "/insights" || p == "/insights/":
		return "insights"
	case traceRoute.MatchString(p):
		return "trace"
	case p == "/errors" || p == "/errors/":
		return "errors"
	case p == "/errors/access" || p == "/errors/access/":
		return "access"
	case errorItemRoute.MatchString(p):
		return "error"
	}
	return ""
}

// moduleClosure lists entry and every module it imports, directly or not, as paths under
// assets/.
func moduleClosure(assets map[string]*asset, entry string) []string {
	seen := map[string]bool{entry: true}
	queue := []string{entry}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		a, ok := assets[name]
		if !ok {
			continue
		}
		for _, m := range staticImport.FindAllStringSubmatch(string(a.body), -1) {
			dep := path.Join(path.Dir(name), m[1])
			if !seen[dep] {
				seen[dep] = true
				queue = append(queue, dep)
			}
		}
	}
	out := make([]string, 0, len(seen))
	for name := range seen {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// preloadLinks returns the modulepreload links of app.js's modules and, for a page route
// kind, of the page's; app.js itself is left out, as its script tag loads it.
func preloadLinks(assets map[string]*asset, prefix, kind string) string {
	mods := moduleClosure(assets, "js/app.js")
	if entry, ok := pageModules[kind]; ok {
		mods = append(mods, moduleClosure(assets, entry)...)
	}
	slices.Sort(mods)
	var b strings.Builder
	for _, m := range slices.Compact(mods) {
		if m != "js/app.js" {
			b.WriteString(`<link rel="modulepreload" href="` + prefix + "/" + m + `">` + "\n")
		}
	}
	return b.String()
}

// tracePreload is the link that starts fetching the trace of a trace page's path with the
// page itself; "" for other paths.
func tracePreload(p string) string {
	m := traceRoute.FindStringSubmatch(p)
	if m == nil {
		return ""
	}
	return `<link rel="preload" href="/api/traces/` + m[1] + `" as="fetch" crossorigin fetchpriority="high">` + "\n"
}
