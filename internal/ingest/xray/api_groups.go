package xray

import (
	"context"
	"encoding/json"
	"sort"
	"strings"

	"lookout/internal/aws"
)

// groupKind is the settings kind groups are kept under.
const groupKind = "xray-group"

// Group is a saved filter expression with a name, in the X-Ray API's shape.
type Group struct {
	GroupName             string
	GroupARN              string
	FilterExpression      string `json:",omitempty"`
	InsightsConfiguration struct {
		InsightsEnabled      bool
		NotificationsEnabled bool
	}
}

func groupARN(name string) string {
	return "arn:aws:xray:us-east-1:000000000000:group/" + name + "/lookout"
}

// groupName is the group a request names, by name or ARN.
func groupName(name, arn string) (string, *aws.Error) {
	switch {
	case name != "":
		return name, nil
	case arn != "":
		_, rest, ok := strings.Cut(arn, ":group/")
		if !ok {
			return "", invalid("GroupARN %q is not a group's ARN", arn)
		}
		name, _, _ = strings.Cut(rest, "/")
		return name, nil
	}
	return "", invalid("GroupName or GroupARN is required")
}

func (a *API) groups(ctx context.Context) (map[string]Group, *aws.Error) {
	docs, err := a.cfg.Settings.Settings(ctx, groupKind)
	if err != nil {
		return nil, internal(err)
	}
	out := make(map[string]Group, len(docs))
	for name, doc := range docs {
		var g Group
		if err := json.Unmarshal(doc, &g); err != nil {
			return nil, internal(err)
		}
		out[name] = g
	}
	return out, nil
}

// group returns one group, or X-Ray's error for a missing one.
func (a *API) group(ctx context.Context, name, arn string) (Group, *aws.Error) {
	n, aerr := groupName(name, arn)
	if aerr != nil {
		return Group{}, aerr
	}
	all, aerr := a.groups(ctx)
	if aerr != nil {
		return Group{}, aerr
	}
	g, ok := all[n]
	if !ok {
		return Group{}, invalid("Group %s not found", n)
	}
	return g, nil
}

func (a *API) saveGroup(ctx context.Context, g Group) *aws.Error {
	if err := checkFilter(g.FilterExpression); err != nil {
		return err
	}
	return a.putSetting(ctx, groupKind, g.GroupName, g)
}

type groupRequest struct {
	GroupName, GroupARN   string
	FilterExpression      *string
	InsightsConfiguration *struct{ InsightsEnabled, NotificationsEnabled bool }
}

func (a *API) createGroup(ctx context.Context, body []byte) (any, *aws.Error) {
	var req struct {
		groupRequest
		Tags []Tag
	}
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	if req.GroupName == "" || len(req.GroupName) > 32 || req.GroupName == "Default" {
		return nil, invalid("GroupName must be 1 to 32 characters, and not Default")
	}
	if err := checkNewTags(req.Tags); err != nil {
		return nil, err
	}
	a.changes.Lock()
	defer a.changes.Unlock()
	all, aerr := a.groups(ctx)
	if aerr != nil {
		return nil, aerr
	}
	if _, ok := all[req.GroupName]; ok {
		return nil, invalid("Group %s already exists", req.GroupName)
	}
	g := Group{GroupName: req.GroupName, GroupARN: groupARN(req.GroupName)}
	apply(&g, req.groupRequest)
	if err := a.saveGroup(ctx, g); err != nil {
		return nil, err
	}
	if err := a.createdTags(ctx, g.GroupARN, req.Tags); err != nil {
		return nil, err
	}
	return map[string]any{"Group": g}, nil
}

func apply(g *Group, req groupRequest) {
	if req.FilterExpression != nil {
		g.FilterExpression = *req.FilterExpression
	}
	if c := req.InsightsConfiguration; c != nil {
		g.InsightsConfiguration.InsightsEnabled, g.InsightsConfiguration.NotificationsEnabled = c.InsightsEnabled, c.NotificationsEnabled
	}
}

func (a *API) getGroup(ctx context.Context, body []byte) (any, *aws.Error) {
	var req groupRequest
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	g, aerr := a.group(ctx, req.GroupName, req.GroupARN)
	if aerr != nil {
		return nil, aerr
	}
	return map[string]any{"Group": g}, nil
}

// GetGroups lists every group, X-Ray's Default group (every trace) first.
func (a *API) getGroups(ctx context.Context, _ []byte) (any, *aws.Error) {
	all, aerr := a.groups(ctx)
	if aerr != nil {
		return nil, aerr
	}
	out := []Group{{GroupName: "Default", GroupARN: groupARN("Default")}}
	names := make([]string, 0, len(all))
	for n := range all {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		out = append(out, all[n])
	}
	return map[string]any{"Groups": out}, nil
}

func (a *API) updateGroup(ctx context.Context, body []byte) (any, *aws.Error) {
	var req groupRequest
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	a.changes.Lock()
	defer a.changes.Unlock()
	g, aerr := a.group(ctx, req.GroupName, req.GroupARN)
	if aerr != nil {
		return nil, aerr
	}
	apply(&g, req)
	if err := a.saveGroup(ctx, g); err != nil {
		return nil, err
	}
	return map[string]any{"Group": g}, nil
}

func (a *API) deleteGroup(ctx context.Context, body []byte) (any, *aws.Error) {
	var req groupRequest
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	a.changes.Lock()
	defer a.changes.Unlock()
	g, aerr := a.group(ctx, req.GroupName, req.GroupARN)
	if aerr != nil {
		return nil, aerr
	}
	if err := a.cfg.Settings.DeleteSetting(ctx, groupKind, g.GroupName); err != nil {
		return nil, internal(err)
	}
	if err := a.setTags(ctx, g.GroupARN, nil); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

// checkFilter refuses a filter expression that does not parse. A group's expression may not
// name a group.
func checkFilter(expr string) *aws.Error {
	if _, err := parseFilter(expr, nil); err != nil {
		return invalid("%v", err)
	}
	return nil
}
