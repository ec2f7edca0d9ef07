package rollbar

import (
	"regexp"
	"strings"
)

// browsers are matched in order: Edge and Opera also say Chrome, Chrome also says Safari.
var browsers = []struct {
	name string
	re   *regexp.Regexp
}{
	{"Edge", regexp.MustCompile(`Edg(?:e|A|iOS)?/(\d+)`)},
	{"Opera", regexp.MustCompile(`OPR/(\d+)`)},
	{"Firefox", regexp.MustCompile(`Firefox/(\d+)`)},
	{"Chrome", regexp.MustCompile(`(?:Chrome|CriOS)/(\d+)`)},
	{"Safari", regexp.MustCompile(`Version/(\d+)[.\d]* (?:Mobile/\S+ )?Safari/`)},
}

var systems = []struct{ name, marker string }{
	{"Android", "Android"}, {"iOS", "iPhone"}, {"iOS", "iPad"}, {"Windows", "Windows"},
	{"macOS", "Mac OS X"}, {"Chrome OS", "CrOS"}, {"Linux", "Linux"},
}

// userAgent names the browser (with its major version) and operating system of a
// User-Agent header, for the item's breakdowns; "" for what it does not know.
func userAgent(ua string) (browser, os string) {
	for _, b := range browsers {
		if m := b.re.FindStringSubmatch(ua); m != nil {
			browser = b.name + " " + m[1]
			break
		}
	}
	for _, s := range systems {
		if strings.Contains(ua, s.marker) {
			os = s.name
			break
		}
	}
	return browser, os
}
