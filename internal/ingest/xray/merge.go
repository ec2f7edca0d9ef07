package xray

import (
	"slices"
	"sync"
	"time"

	"lookout/internal/telemetry"
)

// A subsegment sent on its own (an SDK streams completed subsegments of a large segment
// before the segment itself ends) does not say which service it belongs to: that is its
// segment's name. The resolver remembers the service of recent segments and subsegments by
// trace and id, so that such a subsegment takes its segment's resource, whether the segment
// arrived before it or arrives after. One whose segment has not arrived within its hold is
// stored with an unknown service, and stored again with its segment's service if the
// segment comes later: the store keeps the version whose service is known
// (store.SpanReviser).

// entityKey identifies a segment or subsegment.
type entityKey struct {
	trace telemetry.TraceID
	id    telemetry.SpanID
}

// Bounds of what the resolver remembers.
const (
	knownEntities  = 200_000 // services of recent entities, in two generations of this size
	waitingDocs    = 20_000  // subsegments waiting for their segment
	waitingForever = 10 * time.Minute
)

// resolver matches independent subsegments with their segments' resources. It is safe for
// concurrent use.
type resolver struct {
	mu       sync.Mutex
	hold     time.Duration // how long a subsegment waits unstored for its segment
	known    generation
	previous generation               // the older one
	waiting  map[entityKey][]*waiting // by parent id
	order    []*waiting               // as they arrived, those gone since included
	count    int                      // those waiting
}

type waiting struct {
	doc     *Document
	parent  entityKey
	arrived time.Time
	stored  bool // stored with an unknown service; stored again once resolved
	gone    bool // resolved, or waited its longest: in order only until passed over
}

func newResolver(hold time.Duration) *resolver {
	return &resolver{hold: hold, known: newGeneration(knownEntities / 4), waiting: map[entityKey][]*waiting{}}
}

// generation is what the resolver remembers of a time's entities: the number of each one's
// resource in a list, so that the map, large and long-lived, holds no pointer for the
// collector to follow. A write's documents share a resource (Ingester.write), and it is
// listed once while they follow each other.
type generation struct {
	resourceOf map[entityKey]int32
	resources  []*telemetry.Resource
}

func newGeneration(size int) generation {
	return generation{resourceOf: make(map[entityKey]int32, size)}
}

func (g *generation) add(key entityKey, res *telemetry.Resource) {
	n := len(g.resources) - 1
	if n < 0 || g.resources[n] != res {
		g.resources = append(g.resources, res)
		n++
	}
	g.resourceOf[key] = int32(n)
}

func (g *generation) get(key entityKey) *telemetry.Resource {
	if n, ok := g.resourceOf[key]; ok {
		return g.resources[n]
	}
	return nil
}

// add takes decoded documents and returns those ready to store: every segment, and every
// independent subsegment whose segment is known (now, or thanks to a document of this call).
// Subsegments whose segment is not known wait; unless hold is set they are returned at once
// with an unknown service as well (a client waits for their acknowledgement).
func (r *resolver) add(docs []*Document, now time.Time, hold bool) []*Document {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ready []*Document
	var unresolved []*Document
	for _, d := range docs {
		if !d.Independent {
			ready = r.learn(d, ready)
			continue
		}
		unresolved = append(unresolved, d)
	}
	for _, d := range unresolved {
		key := entityKey{d.Spans[0].TraceID, d.Spans[0].ParentSpanID}
		if res := r.lookup(key); res != nil {
			setResource(d, res)
			ready = r.learn(d, ready)
			continue
		}
		w := &waiting{doc: d, arrived: now}
		if !hold || r.hold <= 0 {
			w.stored = true
			ready = append(ready, d)
		}
		if evicted := r.wait(key, w); evicted != nil {
			ready = append(ready, evicted)
		}
	}
	return ready
}

// expired returns the waiting subsegments whose hold has passed and that are not stored
// yet, to be stored with an unknown service; they keep waiting for their segment, up to
// waitingForever.
func (r *resolver) expired(now time.Time) []*Document {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*Document
	for _, w := range r.order {
		age := now.Sub(w.arrived)
		if age < r.hold {
			break // those after it came later
		}
		if w.gone {
			continue
		}
		if !w.stored {
			w.stored = true
			out = append(out, w.doc)
		}
		if age >= waitingForever {
			r.remove(w)
		}
	}
	return out
}

// drain returns every waiting subsegment not stored yet, and forgets them all.
func (r *resolver) drain() []*Document {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*Document
	for _, ws := range r.waiting {
		for _, w := range ws {
			if !w.stored {
				out = append(out, w.doc)
			}
		}
	}
	clear(r.waiting)
	r.order, r.count = nil, 0
	return out
}

// learn records the resource of a document's entities and releases the subsegments waiting
// for any of them, appending the document and those to ready.
func (r *resolver) learn(d *Document, ready []*Document) []*Document {
	ready = append(ready, d)
	res := d.Spans[0].Resource
	for i := range d.Spans {
		key := entityKey{d.Spans[i].TraceID, d.Spans[i].SpanID}
		r.remember(key, res)
		for _, w := range r.waiting[key] {
			w.gone = true
			setResource(w.doc, res)
			ready = r.learn(w.doc, ready)
			r.count--
		}
		delete(r.waiting, key)
	}
	return ready
}

func (r *resolver) remember(key entityKey, res *telemetry.Resource) {
	if len(r.known.resourceOf) >= knownEntities {
		r.previous, r.known = r.known, newGeneration(knownEntities/4)
	}
	r.known.add(key, res)
}

func (r *resolver) lookup(key entityKey) *telemetry.Resource {
	if res := r.known.get(key); res != nil {
		return res
	}
	return r.previous.get(key)
}

// wait keeps a subsegment until its segment arrives. When too many wait, the oldest stops
// waiting, and is returned if it still has to be stored.
func (r *resolver) wait(parent entityKey, w *waiting) *Document {
	var evicted *Document
	if r.count >= waitingDocs {
		if old := r.dropOldest(); !old.stored {
			evicted = old.doc
		}
	}
	w.parent = parent
	r.waiting[parent] = append(r.waiting[parent], w)
	r.order = append(r.order, w)
	r.count++
	if len(r.order) > 2*r.count+1024 { // mostly resolved since: keep order in proportion
		r.order = slices.DeleteFunc(r.order, func(w *waiting) bool { return w.gone })
	}
	return evicted
}

// dropOldest stops the subsegment that has waited longest from waiting, and returns it.
func (r *resolver) dropOldest() *waiting {
	for {
		w := r.order[0]
		r.order[0], r.order = nil, r.order[1:] // the array keeps no document it no longer holds
		if !w.gone {
			r.remove(w)
			return w
		}
	}
}

// remove stops w from waiting for its segment.
func (r *resolver) remove(w *waiting) {
	ws := slices.DeleteFunc(r.waiting[w.parent], func(o *waiting) bool { return o == w })
	if len(ws) == 0 {
		delete(r.waiting, w.parent)
	} else {
		r.waiting[w.parent] = ws
	}
	w.gone = true
	r.count--
}

// setResource gives every span of a document its segment's resource.
func setResource(d *Document, res *telemetry.Resource) {
	for i := range d.Spans {
		d.Spans[i].Resource = res
	}
}
