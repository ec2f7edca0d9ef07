package rollbar

import (
	"net/http"
	"strconv"
	"sync"
	"time"
)

// limiter counts a token's items in fixed windows, as Rollbar does: a window starts with
// the first item after the last one ended.
type limiter struct {
	limit  int
	window time.Duration

	mu    sync.Mutex
	start time.Time
	used  int
	noted bool // the window's limit notice is written
}

// take counts one item at now; it reports whether the item is within the limit, how many
// more the window allows, when the window ends, and whether this is the first item the
// window refuses.
func (l *limiter) take(now time.Time) (ok bool, remaining int, reset time.Time, firstRefusal bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.start.IsZero() || !now.Before(l.start.Add(l.window)) {
		l.start, l.used, l.noted = now, 0, false
	}
	reset = l.start.Add(l.window)
	if l.used >= l.limit {
		first := !l.noted
		l.noted = true
		return false, 0, reset, first
	}
	l.used++
	return true, l.limit - l.used, reset, false
}

// setRateHeaders writes Rollbar's four rate-limit headers. rollbar.js pauses for
// X-Rate-Limit-Remaining-Seconds when X-Rate-Limit-Remaining is 0; X-Rate-Limit-Reset is
// the window's end in Unix seconds.
func setRateHeaders(h http.Header, limit, remaining int, reset, now time.Time) {
	secs := max(1, int((reset.Sub(now)+time.Second-1)/time.Second))
	h.Set("X-Rate-Limit-Limit", strconv.Itoa(limit))
	h.Set("X-Rate-Limit-Remaining", strconv.Itoa(remaining))
	h.Set("X-Rate-Limit-Remaining-Seconds", strconv.Itoa(secs))
	h.Set("X-Rate-Limit-Reset", strconv.FormatInt(reset.Unix(), 10))
}
