package server

import (
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
)

// Browsers let any web page send requests to lookout's ports. Two guards keep a page from
// reading or changing a developer's lookout: hostGuard against DNS rebinding, sameOrigin
// against cross-site requests that change state.

// hostSet holds the host names lookout answers to besides IP addresses and localhost.
type hostSet struct {
	any   bool
	exact map[string]bool
	// suffixes are ".example.com" entries, which allow every name under example.com.
	suffixes []string
}

// newHostSet allows the machine's own name, the public URL's host, and the given names
// ("*" for any, ".example.com" for a domain and its subdomains).
func newHostSet(publicURL string, allowed []string) (hostSet, error) {
	h := hostSet{exact: map[string]bool{}}
	if name, err := os.Hostname(); err == nil {
		h.exact[strings.ToLower(name)] = true
	}
	if publicURL != "" {
		u, err := url.Parse(publicURL)
		if err != nil || u.Host == "" {
			return h, fmt.Errorf("--public-url %q is not an absolute URL", publicURL)
		}
		h.exact[strings.ToLower(u.Hostname())] = true
	}
	for _, a := range allowed {
		switch a = strings.ToLower(strings.TrimSpace(a)); {
		case a == "":
		case a == "*":
			h.any = true
		case strings.HasPrefix(a, "."):
			h.suffixes = append(h.suffixes, a)
			h.exact[a[1:]] = true
		default:
			h.exact[a] = true
		}
	}
	return h, nil
}

// allows reports whether a request's Host may be answered. An IP address cannot be rebound
// (a rebinding page's Host is the attacker's name), and localhost names resolve only here.
func (h hostSet) allows(hostport string) bool {
	host := hostport
	if hst, _, err := net.SplitHostPort(hostport); err == nil {
		host = hst
	}
	host = strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
	if h.any || net.ParseIP(host) != nil || host == "localhost" || strings.HasSuffix(host, ".localhost") || h.exact[host] {
		return true
	}
	for _, s := range h.suffixes {
		if strings.HasSuffix(host, s) {
			return true
		}
	}
	return false
}

// hostGuard answers 403 to requests for a Host lookout is not reached by.
func hostGuard(hosts hostSet, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !hosts.allows(r.Host) {
			http.Error(w, fmt.Sprintf("lookout does not answer to the host name %q: reach it by IP address or localhost, or start it with --allowed-hosts or --public-url naming this host", r.Host), http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// sameOrigin refuses requests that change state (any method but GET, HEAD and OPTIONS) when
// a browser sent them from another site, and, with requireJSON, ones whose body is not JSON:
// a page elsewhere may post a form or text/plain without asking first, but only a page of the
// same origin may send JSON. Tools that are not browsers send no Origin and pass.
func sameOrigin(requireJSON bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			next.ServeHTTP(w, r)
			return
		}
		if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
			http.Error(w, "cross-site requests may not change lookout's state", http.StatusForbidden)
			return
		}
		if origin := r.Header.Get("Origin"); origin != "" {
			if u, err := url.Parse(origin); err != nil || !strings.EqualFold(u.Host, r.Host) {
				http.Error(w, "cross-origin requests may not change lookout's state", http.StatusForbidden)
				return
			}
		}
		if requireJSON && (r.ContentLength != 0 || r.Header.Get("Transfer-Encoding") != "") {
			if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
				http.Error(w, "send the request body as application/json", http.StatusUnsupportedMediaType)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
