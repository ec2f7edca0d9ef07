package cwlogs

import (
	"context"
	"net/http"
	"slices"
	"strconv"

	"lookout/internal/aws"
	"lookout/internal/store"
)

// retentionDays are the values PutRetentionPolicy accepts (the model's Days enum).
var retentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

const maxTags = 50

func (h *Handler) createLogGroup(ctx context.Context, req *request) (any, error) {
	var in struct {
		LogGroupName string            `json:"logGroupName"`
		Tags         map[string]string `json:"tags"`
	}
	if err := decode(req.body, &in); err != nil {
		return nil, err
	}
	if err := checkGroupName("logGroupName", in.LogGroupName); err != nil {
		return nil, err
	}
	if len(in.LogGroupName) >= 4 && in.LogGroupName[:4] == "aws/" {
		return nil, invalidParameter("Log group names starting with aws/ are reserved for AWS services.")
	}
	if len(in.Tags) > maxTags {
		return nil, aws.Errorf(http.StatusBadRequest, "TooManyTagsException", "A log group can have at most %d tags.", maxTags)
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	return nil, storeError(h.store.CreateLogGroup(ctx, in.LogGroupName, in.Tags), nil, errGroupExists)
}

type groupInput struct {
	LogGroupName string `json:"logGroupName"`
}

// groupName decodes an input naming one group by logGroupName.
func groupName(req *request) (string, error) {
	var in groupInput
	if err := decode(req.body, &in); err != nil {
		return "", err
	}
	return in.LogGroupName, checkGroupName("logGroupName", in.LogGroupName)
}

func (h *Handler) deleteLogGroup(ctx context.Context, req *request) (any, error) {
	name, err := groupName(req)
	if err != nil {
		return nil, err
	}
	return nil, storeError(h.store.DeleteLogGroup(ctx, name), errGroupNotFound, nil)
}

// logGroupOut is a LogGroup as DescribeLogGroups answers it.
type logGroupOut struct {
	LogGroupName      string `json:"logGroupName"`
	CreationTime      int64  `json:"creationTime"`
	RetentionInDays   int    `json:"retentionInDays,omitempty"`
	MetricFilterCount *int   `json:"metricFilterCount,omitempty"`
	ARN               string `json:"arn"`
	LogGroupARN       string `json:"logGroupArn,omitempty"`
	StoredBytes       *int64 `json:"storedBytes,omitempty"`
	LogGroupClass     string `json:"logGroupClass,omitempty"`
}

func (h *Handler) describeLogGroups(ctx context.Context, req *request) (any, error) {
	var in struct {
		Prefix      string   `json:"logGroupNamePrefix"`
		Pattern     string   `json:"logGroupNamePattern"`
		Identifiers []string `json:"logGroupIdentifiers"`
		Limit       *int     `json:"limit"`
		NextToken   string   `json:"nextToken"`
	}
	if err := decode(req.body, &in); err != nil {
		return nil, err
	}
	limit, err := checkLimit(in.Limit, 50, 50)
	if err != nil {
		return nil, err
	}
	if in.Prefix != "" && in.Pattern != "" {
		return nil, invalidParameter("LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.")
	}
	if in.Prefix != "" {
		if err := checkGroupName("logGroupNamePrefix", in.Prefix); err != nil {
			return nil, err
		}
	}
	q := store.LogGroupQuery{Prefix: in.Prefix, Contains: in.Pattern, Limit: limit + 1}
	if in.Identifiers != nil {
		if len(in.Identifiers) < 1 || len(in.Identifiers) > 50 {
			return nil, validation("logGroupIdentifiers", len(in.Identifiers), "have length between 1 and 50")
		}
		for _, id := range in.Identifiers {
			name, err := groupFromIdentifier("logGroupIdentifiers", id)
			if err != nil {
				return nil, err
			}
			q.Names = append(q.Names, name)
		}
	}
	if q.Offset, err = parseOffsetToken(in.NextToken); err != nil {
		return nil, err
	}
	groups, err := h.store.LogGroups(ctx, q)
	if err != nil {
		return nil, err
	}
	out := struct {
		LogGroups []logGroupOut `json:"logGroups"`
		NextToken string        `json:"nextToken,omitempty"`
	}{LogGroups: []logGroupOut{}}
	if len(groups) > limit {
		groups, out.NextToken = groups[:limit], offsetToken(q.Offset+limit)
	}
	for _, g := range groups {
		o := logGroupOut{LogGroupName: g.Name, CreationTime: millis(g.Created), ARN: groupARN(req.region, g.Name) + ":*"}
		if in.Pattern == "" { // AWS answers a pattern with names, ARNs and creation times alone
			zero, bytes := 0, g.StoredBytes
			o.RetentionInDays, o.MetricFilterCount, o.StoredBytes = g.RetentionDays, &zero, &bytes
			o.LogGroupARN, o.LogGroupClass = groupARN(req.region, g.Name), "STANDARD"
		}
		out.LogGroups = append(out.LogGroups, o)
	}
	return out, nil
}

// checkLimit validates an optional limit member of 1..most, defaulting to def.
func checkLimit(limit *int, def, most int) (int, error) {
	if limit == nil {
		return def, nil
	}
	if *limit < 1 || *limit > most {
		return 0, validation("limit", *limit, "have value between 1 and "+strconv.Itoa(most))
	}
	return *limit, nil
}

func (h *Handler) putRetentionPolicy(ctx context.Context, req *request) (any, error) {
	var in struct {
		LogGroupName    string `json:"logGroupName"`
		RetentionInDays int    `json:"retentionInDays"`
	}
	if err := decode(req.body, &in); err != nil {
		return nil, err
	}
	if err := checkGroupName("logGroupName", in.LogGroupName); err != nil {
		return nil, err
	}
	if !slices.Contains(retentionDays, in.RetentionInDays) {
		return nil, validation("retentionInDays", in.RetentionInDays, "satisfy enum value set: [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]")
	}
	return nil, storeError(h.store.SetLogRetention(ctx, in.LogGroupName, in.RetentionInDays), errGroupNotFound, nil)
}

func (h *Handler) deleteRetentionPolicy(ctx context.Context, req *request) (any, error) {
	name, err := groupName(req)
	if err != nil {
		return nil, err
	}
	return nil, storeError(h.store.SetLogRetention(ctx, name, 0), errGroupNotFound, nil)
}

// Tags, by ARN (TagResource and friends) and by name (the deprecated TagLogGroup and friends).

func (h *Handler) tagResource(ctx context.Context, req *request) (any, error) {
	var in struct {
		ARN  string            `json:"resourceArn"`
		Tags map[string]string `json:"tags"`
	}
	if err := decode(req.body, &in); err != nil {
		return nil, err
	}
	group, err := groupFromARN("resourceArn", in.ARN)
	if err != nil {
		return nil, err
	}
	return nil, h.tag(ctx, group, in.Tags)
}

func (h *Handler) tagLogGroup(ctx context.Context, req *request) (any, error) {
	var in struct {
		LogGroupName string            `json:"logGroupName"`
		Tags         map[string]string `json:"tags"`
	}
	if err := decode(req.body, &in); err != nil {
		return nil, err
	}
	if err := checkGroupName("logGroupName", in.LogGroupName); err != nil {
		return nil, err
	}
	return nil, h.tag(ctx, in.LogGroupName, in.Tags)
}

// tag adds tags to a group, at most maxTags in all.
func (h *Handler) tag(ctx context.Context, group string, tags map[string]string) error {
	if len(tags) == 0 {
		return validation("tags", "{}", "have length greater than or equal to 1")
	}
	if err := checkTags(tags); err != nil {
		return err
	}
	current, err := h.tags(ctx, group)
	if err != nil {
		return err
	}
	n := len(current)
	for k := range tags {
		if _, ok := current[k]; !ok {
			n++
		}
	}
	if n > maxTags {
		return aws.Errorf(http.StatusBadRequest, "TooManyTagsException", "A log group can have at most %d tags.", maxTags)
	}
	return storeError(h.store.TagLogGroup(ctx, group, tags, nil), errGroupNotFound, nil)
}

func (h *Handler) tags(ctx context.Context, group string) (map[string]string, error) {
	groups, err := h.store.LogGroups(ctx, store.LogGroupQuery{Names: []string{group}})
	if err != nil {
		return nil, err
	}
	if len(groups) == 0 {
		return nil, errGroupNotFound
	}
	if groups[0].Tags == nil {
		return map[string]string{}, nil
	}
	return groups[0].Tags, nil
}

func (h *Handler) untagResource(ctx context.Context, req *request) (any, error) {
	var in struct {
		ARN  string   `json:"resourceArn"`
		Keys []string `json:"tagKeys"`
	}
	if err := decode(req.body, &in); err != nil {
		return nil, err
	}
	group, err := groupFromARN("resourceArn", in.ARN)
	if err != nil {
		return nil, err
	}
	return nil, h.untag(ctx, group, in.Keys)
}

func (h *Handler) untagLogGroup(ctx context.Context, req *request) (any, error) {
	var in struct {
		LogGroupName string   `json:"logGroupName"`
		Keys         []string `json:"tags"`
	}
	if err := decode(req.body, &in); err != nil {
		return nil, err
	}
	if err := checkGroupName("logGroupName", in.LogGroupName); err != nil {
		return nil, err
	}
	return nil, h.untag(ctx, in.LogGroupName, in.Keys)
}

func (h *Handler) untag(ctx context.Context, group string, keys []string) error {
	if len(keys) == 0 {
		return validation("tagKeys", "[]", "have length greater than or equal to 1")
	}
	for _, k := range keys {
		if err := checkTagKey(k); err != nil {
			return err
		}
	}
	return storeError(h.store.TagLogGroup(ctx, group, nil, keys), errGroupNotFound, nil)
}

type tagsOut struct {
	Tags map[string]string `json:"tags"`
}

func (h *Handler) listTagsForResource(ctx context.Context, req *request) (any, error) {
	var in struct {
		ARN string `json:"resourceArn"`
	}
	if err := decode(req.body, &in); err != nil {
		return nil, err
	}
	group, err := groupFromARN("resourceArn", in.ARN)
	if err != nil {
		return nil, err
	}
	tags, err := h.tags(ctx, group)
	return tagsOut{tags}, err
}

func (h *Handler) listTagsLogGroup(ctx context.Context, req *request) (any, error) {
	name, err := groupName(req)
	if err != nil {
		return nil, err
	}
	tags, err := h.tags(ctx, name)
	return tagsOut{tags}, err
}
