package otlp

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"lookout/internal/telemetry"
)

// signal is what differs between the kinds of telemetry OTLP carries (spans, log records);
// the request around the items (resources, scopes, partial success) is the same for all.
type signal[T any] interface {
	// protoItem reads one item from its protobuf message into *item, which is zero.
	protoItem(d *decoder, item *T, msg []byte) error
	// jsonItem reads one item from its OTLP/JSON object into *item, which is zero.
	jsonItem(j *jsonDecoder, item *T)
	// finish completes an item once its resource and scope have been read (a resource may
	// follow its items on the wire) and reports why the item cannot be stored, or nil.
	finish(item *T, res *telemetry.Resource, scope *telemetry.Scope) error
	// names are the signal's field names, for OTLP/JSON and for messages.
	names() *signalNames
}

// signalNames are a signal's names in an export request.
type signalNames struct {
	request, item                        string    // "trace", "span"
	resources, scopes, items             [2]string // OTLP/JSON keys: lowerCamelCase, then the proto name
	resourcesPath, scopesPath, itemsPath string    // "resourceSpans", "scopeSpans", "spans"
	rejected                             string    // the partial success field counting rejects, in OTLP/JSON
}

// batch collects the items of one request. Items are checked when their resource ends, and
// rejected ones leave the batch.
type batch[T any] struct {
	d     *decoder
	sig   signal[T]
	items []T
	read  int // items decoded, kept or not
	rej   rejections

	// The resource being read.
	resIndex int
	from     int // its first item
	scopes   []scopeRange
}

// scopeRange is one scope of the current resource and the items it holds.
type scopeRange struct {
	scope    telemetry.Scope
	index    int // place among the resource's scopes
	from, to int // items
}

// beginScope starts a scope of the current resource.
func (b *batch[T]) beginScope() *scopeRange {
	b.scopes = append(b.scopes, scopeRange{index: len(b.scopes), from: len(b.items)})
	return &b.scopes[len(b.scopes)-1]
}

// addItem returns the slot for the next item. The slot stays valid until the next addItem.
func (b *batch[T]) addItem() (*T, error) {
	if err := grow(b.d, &b.items); err != nil {
		return nil, err
	}
	b.items = b.items[:len(b.items)+1]
	b.read++
	return &b.items[len(b.items)-1], b.d.tick()
}

// endResource checks the items of the resource just read, keeps the valid ones and counts
// the others as rejected. res is the resource as read.
func (b *batch[T]) endResource(res telemetry.Resource) error {
	defer func() {
		b.resIndex++
		b.from = len(b.items)
		b.scopes = b.scopes[:0]
	}()
	if len(b.items) == b.from {
		return nil
	}
	if err := b.d.charge(sizeOf[telemetry.Resource]()); err != nil {
		return err
	}
	rp := new(telemetry.Resource)
	*rp = res
	kept := b.from
	for si := range b.scopes {
		sr := &b.scopes[si]
		if sr.from == sr.to {
			continue
		}
		if err := b.d.charge(sizeOf[telemetry.Scope]()); err != nil {
			return err
		}
		sp := new(telemetry.Scope)
		*sp = sr.scope
		for i := sr.from; i < sr.to; i++ {
			if err := b.sig.finish(&b.items[i], rp, sp); err != nil {
				b.rej.add(err, b.resIndex, sr.index, i-sr.from)
				continue
			}
			if i != kept {
				b.items[kept] = b.items[i]
			}
			kept++
		}
	}
	clear(b.items[kept:])
	b.items = b.items[:kept]
	return nil
}

// endScope closes the scope being read.
func (b *batch[T]) endScope(sr *scopeRange) { sr.to = len(b.items) }

// result returns what the request decoded to.
func (b *batch[T]) result() Result[T] {
	n := b.sig.names()
	return Result[T]{Items: b.items, Rejected: b.rej.total, Message: b.rej.message(b.read, n)}
}

// maxReasons bounds the distinct reasons listed in a partial-success message, because OTLP
// requires servers to bound the size of their responses.
const maxReasons = 4

// rejections tallies rejected items by reason for the partial-success message.
type rejections struct {
	total   int64
	reasons []rejectReason
	other   int64 // rejected for reasons beyond maxReasons
}

type rejectReason struct {
	reason            string
	count             int64
	res, scope, index int // where the first such item was
}

func (r *rejections) add(err error, res, scope, index int) {
	r.total++
	reason := err.Error()
	if inv, ok := errors.AsType[*telemetry.InvalidError](err); ok {
		reason = inv.Reason
	}
	reason = truncate(reason, 200)
	for i := range r.reasons {
		if r.reasons[i].reason == reason {
			r.reasons[i].count++
			return
		}
	}
	if len(r.reasons) == maxReasons {
		r.other++
		return
	}
	r.reasons = append(r.reasons, rejectReason{reason: reason, count: 1, res: res, scope: scope, index: index})
}

// message reads, for example: "rejected 2 of 500 spans: trace id is all zero (2 spans, first
// at resourceSpans[0].scopeSpans[1].spans[7])".
func (r *rejections) message(of int, n *signalNames) string {
	if r.total == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "rejected %d of %s: ", r.total, plural(int64(of), n.item))
	for i, x := range r.reasons {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s (%s, first at %s[%d].%s[%d].%s[%d])", x.reason, plural(x.count, n.item),
			n.resourcesPath, x.res, n.scopesPath, x.scope, n.itemsPath, x.index)
	}
	if r.other > 0 {
		fmt.Fprintf(&b, "; %s for other reasons", plural(r.other, n.item))
	}
	return b.String()
}

func plural(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.FormatInt(n, 10) + " " + noun + "s"
}
