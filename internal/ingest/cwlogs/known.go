package cwlogs

import (
	"context"
	"sync"
	"time"

	"lookout/internal/store"
)

// knownStreams remembers, for a few seconds, the streams PutLogEvents found and their
// group's retention, so that a busy stream costs no catalogue lookups. Only existence is
// remembered (a missing stream is looked up every time, as something may create it), and
// the changes this API makes (deletes, retention) forget everything at once.
type knownStreams struct {
	Store
	mu      sync.Mutex
	streams map[[2]string]knownStream
}

type knownStream struct {
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
	s, ok := k.streams[key]
	k.mu.Unlock()
	if ok && now.Sub(s.at) < knownFor {
		return s.retentionDays, true, nil
	}
	streams, err := k.LogStreams(ctx, store.LogStreamQuery{Group: group, Name: stream})
	if err != nil || len(streams) == 0 {
		return 0, false, err
	}
	groups, err := k.LogGroups(ctx, store.LogGroupQuery{Names: []string{group}})
	if err != nil || len(groups) == 0 {
		return 0, false, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.streams == nil {
		k.streams = map[[2]string]knownStream{}
	}
	k.streams[key] = knownStream{groups[0].RetentionDays, now}
	return groups[0].RetentionDays, true, nil
}

func (k *knownStreams) forget() {
	k.mu.Lock()
	defer k.mu.Unlock()
	clear(k.streams)
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
