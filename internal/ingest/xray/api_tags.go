package xray

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"lookout/internal/aws"
)

// tagKind is the settings kind tags are kept under, one document per resource ARN.
const tagKind = "xray-tags"

// maxTags is how many tags a group or sampling rule may carry.
const maxTags = 50

// tagPattern is the characters X-Ray allows in tag keys and values, letters, digits and
// spaces of any script among them, as AWS's tagging rules allow.
var tagPattern = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)

// Tag is a tag in the X-Ray API's shape.
type Tag struct {
	Key   string
	Value string
}

// checkTags refuses tags X-Ray would: a key twice, a key or value too long or with other
// characters, and keys in the aws: namespace, which is AWS's own. Their number is the
// caller's to check.
func checkTags(tags []Tag) *aws.Error {
	seen := make(map[string]bool, len(tags))
	for _, t := range tags {
		if err := checkTagKey(t.Key); err != nil {
			return err
		}
		if seen[t.Key] {
			return invalid("tag key %q is given twice", t.Key)
		}
		seen[t.Key] = true
		if utf8.RuneCountInString(t.Value) > 256 || !tagPattern.MatchString(t.Value) {
			return invalid("the value of tag %q must be at most 256 letters, digits, spaces or _.:/=+-@", t.Key)
		}
	}
	return nil
}

func checkTagKey(k string) *aws.Error {
	if n := utf8.RuneCountInString(k); n < 1 || n > 128 || !tagPattern.MatchString(k) {
		return invalid("tag key %q must be 1 to 128 letters, digits, spaces or _.:/=+-@", k)
	}
	if strings.HasPrefix(strings.ToLower(k), "aws:") {
		return invalid("tag key %q is in the aws: namespace, which is reserved for AWS", k)
	}
	return nil
}

func notFound(arn string) *aws.Error {
	e := aws.Errorf(http.StatusNotFound, "ResourceNotFoundException", "no sampling rule or group has the ARN %s", arn)
	e.Members = map[string]any{"ResourceName": arn}
	return e
}

// taggable checks that arn is the ARN of a sampling rule or group, exactly as lookout gives
// it out.
func (a *API) taggable(ctx context.Context, arn string) *aws.Error {
	if arn == "" {
		return invalid("ResourceARN is required")
	}
	for _, r := range a.cfg.Sampler.Rules() {
		if r.SamplingRule.RuleARN == arn {
			return nil
		}
	}
	if arn == groupARN("Default") {
		return nil
	}
	groups, aerr := a.groups(ctx)
	if aerr != nil {
		return aerr
	}
	for _, g := range groups {
		if g.GroupARN == arn {
			return nil
		}
	}
	return notFound(arn)
}

// tags returns a resource's tags by key.
func (a *API) tags(ctx context.Context, arn string) (map[string]string, *aws.Error) {
	out := map[string]string{}
	if aerr := a.setting(ctx, tagKind, arn, &out); aerr != nil {
		return nil, aerr
	}
	return out, nil
}

// setTags replaces a resource's tags; none removes its document.
func (a *API) setTags(ctx context.Context, arn string, tags map[string]string) *aws.Error {
	if len(tags) == 0 {
		if err := a.cfg.Settings.DeleteSetting(ctx, tagKind, arn); err != nil {
			return internal(err)
		}
		return nil
	}
	return a.putSetting(ctx, tagKind, arn, tags)
}

// checkNewTags refuses the tags a resource is created with as X-Ray does: like TagResource's,
// and at most maxTags of them.
func checkNewTags(tags []Tag) *aws.Error {
	if len(tags) > maxTags {
		return invalid("a resource can have at most %d tags", maxTags)
	}
	return checkTags(tags)
}

// createdTags gives a resource just made the tags it was made with, replacing any left
// by an earlier resource of the same name.
func (a *API) createdTags(ctx context.Context, arn string, tags []Tag) *aws.Error {
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[t.Key] = t.Value
	}
	return a.setTags(ctx, arn, m)
}

func (a *API) tagResource(ctx context.Context, body []byte) (any, *aws.Error) {
	var req struct {
		ResourceARN string
		Tags        []Tag
	}
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	if req.Tags == nil {
		return nil, invalid("Tags is required")
	}
	if err := checkTags(req.Tags); err != nil {
		return nil, err
	}
	return struct{}{}, a.changeTags(ctx, req.ResourceARN, func(tags map[string]string) *aws.Error {
		for _, t := range req.Tags {
			tags[t.Key] = t.Value
		}
		if len(tags) > maxTags {
			e := aws.Errorf(http.StatusBadRequest, "TooManyTagsException", "a resource can have at most %d tags; these would make %d", maxTags, len(tags))
			e.Members = map[string]any{"ResourceName": req.ResourceARN}
			return e
		}
		return nil
	})
}

func (a *API) untagResource(ctx context.Context, body []byte) (any, *aws.Error) {
	var req struct {
		ResourceARN string
		TagKeys     []string
	}
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	if req.TagKeys == nil {
		return nil, invalid("TagKeys is required")
	}
	for _, k := range req.TagKeys {
		if err := checkTagKey(k); err != nil {
			return nil, err
		}
	}
	return struct{}{}, a.changeTags(ctx, req.ResourceARN, func(tags map[string]string) *aws.Error {
		for _, k := range req.TagKeys {
			delete(tags, k)
		}
		return nil
	})
}

// changeTags changes the tags of the resource arn names with change, which may refuse, under
// the lock that keeps the resource from going meanwhile.
func (a *API) changeTags(ctx context.Context, arn string, change func(map[string]string) *aws.Error) *aws.Error {
	a.changes.Lock()
	defer a.changes.Unlock()
	if err := a.taggable(ctx, arn); err != nil {
		return err
	}
	tags, aerr := a.tags(ctx, arn)
	if aerr != nil {
		return aerr
	}
	if aerr := change(tags); aerr != nil {
		return aerr
	}
	return a.setTags(ctx, arn, tags)
}

// ListTagsForResource answers every tag in one page, by key: a resource has at most 50.
func (a *API) listTagsForResource(ctx context.Context, body []byte) (any, *aws.Error) {
	var req struct{ ResourceARN string }
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	if err := a.taggable(ctx, req.ResourceARN); err != nil {
		return nil, err
	}
	tags, aerr := a.tags(ctx, req.ResourceARN)
	if aerr != nil {
		return nil, aerr
	}
	out := make([]Tag, 0, len(tags))
	for k, v := range tags {
		out = append(out, Tag{Key: k, Value: v})
	}
	slices.SortFunc(out, func(x, y Tag) int { return strings.Compare(x.Key, y.Key) })
	return map[string]any{"Tags": out}, nil
}
