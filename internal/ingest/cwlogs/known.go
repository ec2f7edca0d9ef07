package cwlogs

import (
	"context"
	"sync"
	"time"

	"lookout/internal/store"
)

// knownStreams remembers, for a few seconds, the streams PutLogEvents found and their
// groups' retention, so that a busy stream costs no catalogue lookups (and the streams of a
// group share one lookup of its retention). Only existence is remembered (a missing stream
// is looked up every time, as something may create it), and the changes this API makes
// (deletes, retention) forget everything at once.
type knownStreams struct {
	Store
	mu      sync.Mutex
	streams map[[2]string]time.Time // when each stream was found
	groups  map[string]knownGroup
}

type knownGroup struct {
	retentionDays int
	at            time.Time
}

// knownFor is how long a stream's existence and retention are trusted: deletes and retention
// changes through this API are seen at once, those made otherwise within this.
const knownFor = 5 * time.Second

// streamRetention returns the retention of the group of an existing stream; found is false
// when the group or the stream does not exist.
func (k *knownStreams) streamRetention(ctx context.Context, group, stream string, now time.Time) (days int, found bool, err error) {
	key := [2]string{group, stream}
	k.mu.Lock()
	foundAt, ok := k.streams[key]
	streamFresh := ok && now.Sub(foundAt) < knownFor
	g, ok := k.groups[group]
	groupFresh := ok && now.Sub(g.at) < knownFor
	k.mu.Unlock()
	if streamFresh && groupFresh {
		return g.retentionDays, true, nil
	}
	if !streamFresh {
		streams, err := k.LogStreams(ctx, store.LogStreamQuery{Group: group, Name: stream})
		if err != nil || len(streams) == 0 {
			return 0, false, err
		}
	}
	if !groupFresh {
		groups, err := k.LogGroups(ctx, store.LogGroupQuery{Names: []string{group}})
		if err != nil || len(groups) == 0 {
			return 0, false, err
		}
		g = knownGroup{groups[0].RetentionDays, now}
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.streams == nil {
		k.streams, k.groups = map[[2]string]time.Time{}, map[string]knownGroup{}
	}
	if !streamFresh {
		k.streams[key] = now
	}
	k.groups[group] = g
	return g.retentionDays, true, nil
}

func (k *knownStreams) forget() {
	k.mu.Lock()
	defer k.mu.Unlock()
	clear(k.streams)
	clear(k.groups)
}

// DeleteLogGroup implements store.LogCatalogue, forgetting what it knew.
func (k *knownStreams) DeleteLogGroup(ctx context.Context, name string) error {
	defer k.forget()
	return k.Store.DeleteLogGroup(ctx, name)
}

// DeleteLogStream implements store.LogCatalogue, forgetting what it knew.
func (k *knownStreams) DeleteLogStream(ctx context.Context, group, stream string) error {
	defer k.forget()
	return k.Store.DeleteLogStream(ctx, group, stream)
}

// SetLogRetention implements store.LogCatalogue, forgetting what it knew.
func (k *knownStreams) SetLogRetention(ctx context.Context, group string, days int) error {
	defer k.forget()
	return k.Store.SetLogRetention(ctx, group, days)
}
