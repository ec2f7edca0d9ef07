package cwlogs

import (
	"context"

	"lookout/internal/store"
)

type streamInput struct {
	LogGroupName  string `json:"logGroupName"`
	LogStreamName string `json:"logStreamName"`
}

// streamOf decodes an input naming one stream of one group by name.
func streamOf(req *request) (streamInput, error) {
	var in streamInput
	if err := decode(req.body, &in); err != nil {
		return in, err
	}
	if err := checkGroupName("logGroupName", in.LogGroupName); err != nil {
		return in, err
	}
	return in, checkStreamName("logStreamName", in.LogStreamName)
}

func (h *Handler) createLogStream(ctx context.Context, req *request) (any, error) {
	in, err := streamOf(req)
	if err != nil {
		return nil, err
	}
	return nil, storeError(h.store.CreateLogStream(ctx, in.LogGroupName, in.LogStreamName), errGroupNotFound, errStreamExists)
}

func (h *Handler) deleteLogStream(ctx context.Context, req *request) (any, error) {
	in, err := streamOf(req)
	if err != nil {
		return nil, err
	}
	err = h.store.DeleteLogStream(ctx, in.LogGroupName, in.LogStreamName)
	if err != nil && h.groupMissing(ctx, in.LogGroupName) {
		return nil, errGroupNotFound
	}
	return nil, storeError(err, errStreamNotFound, nil)
}

// groupMissing reports whether a group does not exist (false when that cannot be told).
func (h *Handler) groupMissing(ctx context.Context, group string) bool {
	groups, err := h.store.LogGroups(ctx, store.LogGroupQuery{Names: []string{group}})
	return err == nil && len(groups) == 0
}

// logStreamOut is a LogStream as DescribeLogStreams answers it.
type logStreamOut struct {
	LogStreamName       string `json:"logStreamName"`
	CreationTime        int64  `json:"creationTime"`
	FirstEventTimestamp int64  `json:"firstEventTimestamp,omitempty"`
	LastEventTimestamp  int64  `json:"lastEventTimestamp,omitempty"`
	LastIngestionTime   int64  `json:"lastIngestionTime,omitempty"`
	ARN                 string `json:"arn"`
	StoredBytes         int64  `json:"storedBytes"` // deprecated by AWS: always 0
}

func (h *Handler) describeLogStreams(ctx context.Context, req *request) (any, error) {
	var in struct {
		LogGroupName       string `json:"logGroupName"`
		LogGroupIdentifier string `json:"logGroupIdentifier"`
		Prefix             string `json:"logStreamNamePrefix"`
		OrderBy            string `json:"orderBy"`
		Descending         bool   `json:"descending"`
		Limit              *int   `json:"limit"`
		NextToken          string `json:"nextToken"`
	}
	if err := decode(req.body, &in); err != nil {
		return nil, err
	}
	group, err := groupOf(in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	limit, err := checkLimit(in.Limit, 50, 50)
	if err != nil {
		return nil, err
	}
	q := store.LogStreamQuery{Group: group, Prefix: in.Prefix, Descending: in.Descending, Limit: limit + 1}
	switch in.OrderBy {
	case "", "LogStreamName":
	case "LastEventTime":
		if in.Prefix != "" {
			return nil, invalidParameter("Cannot order by LastEventTime with a logStreamNamePrefix.")
		}
		q.ByLastEvent = true
	default:
		return nil, validation("orderBy", in.OrderBy, "satisfy enum value set: [LogStreamName, LastEventTime]")
	}
	if q.Offset, err = parseOffsetToken(in.NextToken); err != nil {
		return nil, err
	}
	streams, err := h.store.LogStreams(ctx, q)
	if err != nil {
		return nil, storeError(err, errGroupNotFound, nil)
	}
	out := struct {
		LogStreams []logStreamOut `json:"logStreams"`
		NextToken  string         `json:"nextToken,omitempty"`
	}{LogStreams: []logStreamOut{}}
	if len(streams) > limit {
		streams, out.NextToken = streams[:limit], offsetToken(q.Offset+limit)
	}
	for _, st := range streams {
		o := logStreamOut{LogStreamName: st.Name, CreationTime: millis(st.Created),
			ARN: groupARN(req.region, group) + ":log-stream:" + st.Name}
		if st.Records > 0 {
			o.FirstEventTimestamp, o.LastEventTimestamp, o.LastIngestionTime = millis(st.FirstEvent), millis(st.LastEvent), millis(st.LastIngestion)
		}
		out.LogStreams = append(out.LogStreams, o)
	}
	return out, nil
}
