package server_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/aws/aws-sdk-go-v2/service/xray/types"

	"lookout/internal/server"
)

// restart stops srv and starts lookout again on its data directory dir.
func restart(t *testing.T, srv *server.Server, dir string) *server.Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	return start(t, func(c *server.Config) { c.DataDir = dir })
}

// sdkTags is a map of tags as the SDK sends them.
func sdkTags(m map[string]string) []types.Tag {
	out := make([]types.Tag, 0, len(m))
	for k, v := range m {
		out = append(out, types.Tag{Key: awssdk.String(k), Value: awssdk.String(v)})
	}
	return out
}

// listTags is a resource's tags by key, read with ListTagsForResource.
func listTags(t *testing.T, c *xray.Client, arn string) (map[string]string, error) {
	t.Helper()
	out, err := c.ListTagsForResource(context.Background(), &xray.ListTagsForResourceInput{ResourceARN: &arn})
	if err != nil {
		return nil, err
	}
	got := map[string]string{}
	for _, tag := range out.Tags {
		got[*tag.Key] = *tag.Value
	}
	return got, nil
}

func wantTags(t *testing.T, c *xray.Client, when, arn string, want map[string]string) {
	t.Helper()
	got, err := listTags(t, c, arn)
	if err != nil || !maps.Equal(got, want) {
		t.Errorf("%s: tags of %s = %v, %v; want %v", when, arn, got, err, want)
	}
}

func isError[E error](err error) bool {
	var target E
	return errors.As(err, &target)
}

func checkRule(name string) *types.SamplingRule {
	return &types.SamplingRule{RuleName: awssdk.String(name), ResourceARN: awssdk.String("*"), Priority: awssdk.Int32(50), FixedRate: 0.1,
		ReservoirSize: 2, ServiceName: awssdk.String("*"), ServiceType: awssdk.String("*"), Host: awssdk.String("*"),
		HTTPMethod: awssdk.String("*"), URLPath: awssdk.String("/check*"), Version: awssdk.Int32(1)}
}

// TestXRaySDKv2Tags tags a sampling rule and a group with aws-sdk-go-v2: the tags given at
// creation, added and removed later, refused as X-Ray refuses them, kept across a restart,
// and gone with their resource.
func TestXRaySDKv2Tags(t *testing.T) {
	dir := t.TempDir()
	srv := start(t, func(c *server.Config) { c.DataDir = dir })
	ctx := context.Background()
	c := xrayClient(srv)

	ruleTags := map[string]string{"team": "checkout", "cost-center": "4 2", "empty": ""}
	rule, err := c.CreateSamplingRule(ctx, &xray.CreateSamplingRuleInput{SamplingRule: checkRule("tagged"), Tags: sdkTags(ruleTags)})
	if err != nil {
		t.Fatal(err)
	}
	ruleARN := *rule.SamplingRuleRecord.SamplingRule.RuleARN
	groupTags := map[string]string{"owner": "sre@example.com"}
	group, err := c.CreateGroup(ctx, &xray.CreateGroupInput{GroupName: awssdk.String("tagged"), FilterExpression: awssdk.String(`service("checkout")`), Tags: sdkTags(groupTags)})
	if err != nil {
		t.Fatal(err)
	}
	groupARN := *group.Group.GroupARN
	wantTags(t, c, "as created", ruleARN, ruleTags)
	wantTags(t, c, "as created", groupARN, groupTags)

	if _, err := c.TagResource(ctx, &xray.TagResourceInput{ResourceARN: &ruleARN, Tags: sdkTags(map[string]string{"team": "payments", "tier": "1"})}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UntagResource(ctx, &xray.UntagResourceInput{ResourceARN: &ruleARN, TagKeys: []string{"empty", "never-set"}}); err != nil {
		t.Fatal(err)
	}
	ruleTags = map[string]string{"team": "payments", "cost-center": "4 2", "tier": "1"}
	wantTags(t, c, "tagged and untagged", ruleARN, ruleTags)

	// The Default rule and group are resources too.
	rules, err := c.GetSamplingRules(ctx, &xray.GetSamplingRulesInput{})
	if err != nil {
		t.Fatal(err)
	}
	defaultRule := *rules.SamplingRuleRecords[len(rules.SamplingRuleRecords)-1].SamplingRule.RuleARN
	if _, err := c.TagResource(ctx, &xray.TagResourceInput{ResourceARN: &defaultRule, Tags: sdkTags(map[string]string{"default": "yes"})}); err != nil {
		t.Errorf("tagging the Default rule %s: %v", defaultRule, err)
	}

	unknown := strings.Replace(ruleARN, "/tagged", "/never-made", 1)
	for op, call := range map[string]func() error{
		"TagResource": func() error {
			_, err := c.TagResource(ctx, &xray.TagResourceInput{ResourceARN: &unknown, Tags: sdkTags(map[string]string{"a": "b"})})
			return err
		},
		"UntagResource": func() error {
			_, err := c.UntagResource(ctx, &xray.UntagResourceInput{ResourceARN: &unknown, TagKeys: []string{"a"}})
			return err
		},
		"ListTagsForResource": func() error { _, err := listTags(t, c, unknown); return err },
	} {
		var nf *types.ResourceNotFoundException
		if err := call(); !errors.As(err, &nf) || nf.ResourceName == nil || *nf.ResourceName != unknown {
			t.Errorf("%s of an unknown ARN: %v, want ResourceNotFoundException naming it", op, err)
		}
	}

	// X-Ray's limits: at most 50 tags, keys of 1 to 128 characters, values of at most 256,
	// keys not in aws:.
	long := func(n int) string { return strings.Repeat("k", n) }
	for name, tags := range map[string]map[string]string{
		"a 129-character key":    {long(129): "v"},
		"a 257-character value":  {"k": long(257)},
		"an aws: key":            {"aws:cloudformation:stack-name": "s"},
		"an empty key":           {"": "v"},
		"a key with a semicolon": {"semi;colon": "v"},
	} {
		_, err := c.TagResource(ctx, &xray.TagResourceInput{ResourceARN: &groupARN, Tags: sdkTags(tags)})
		if !isError[*types.InvalidRequestException](err) {
			t.Errorf("tagging with %s: %v, want InvalidRequestException", name, err)
		}
	}
	if _, err := c.UntagResource(ctx, &xray.UntagResourceInput{ResourceARN: &groupARN, TagKeys: []string{"aws:createdBy"}}); !isError[*types.InvalidRequestException](err) {
		t.Errorf("untagging an aws: key: %v, want InvalidRequestException", err)
	}
	groupTags[long(128)] = long(256)
	if _, err := c.TagResource(ctx, &xray.TagResourceInput{ResourceARN: &groupARN, Tags: sdkTags(map[string]string{long(128): long(256)})}); err != nil {
		t.Errorf("a 128-character key with a 256-character value: %v", err)
	}
	fill := map[string]string{}
	for i := len(groupTags); i < 50; i++ {
		fill[fmt.Sprintf("k%02d", i)] = "v"
	}
	if _, err := c.TagResource(ctx, &xray.TagResourceInput{ResourceARN: &groupARN, Tags: sdkTags(fill)}); err != nil {
		t.Errorf("tags up to 50: %v", err)
	}
	maps.Copy(groupTags, fill)
	var tooMany *types.TooManyTagsException
	if _, err := c.TagResource(ctx, &xray.TagResourceInput{ResourceARN: &groupARN, Tags: sdkTags(map[string]string{"one-more": "v"})}); !errors.As(err, &tooMany) {
		t.Errorf("a 51st tag: %v, want TooManyTagsException", err)
	}
	if _, err := c.TagResource(ctx, &xray.TagResourceInput{ResourceARN: &groupARN, Tags: sdkTags(map[string]string{"owner": "dev@example.com"})}); err != nil {
		t.Errorf("changing a tag's value at 50 tags: %v", err)
	}
	groupTags["owner"] = "dev@example.com"
	wantTags(t, c, "after the refusals", groupARN, groupTags)

	fiftyOne := map[string]string{}
	for i := range 51 {
		fiftyOne[fmt.Sprintf("k%02d", i)] = "v"
	}
	_, err = c.CreateSamplingRule(ctx, &xray.CreateSamplingRuleInput{SamplingRule: checkRule("overtagged"), Tags: sdkTags(fiftyOne)})
	if !isError[*types.InvalidRequestException](err) {
		t.Errorf("a rule created with 51 tags: %v, want InvalidRequestException", err)
	}
	_, err = c.CreateGroup(ctx, &xray.CreateGroupInput{GroupName: awssdk.String("overtagged"), Tags: sdkTags(map[string]string{"aws:x": "y"})})
	if !isError[*types.InvalidRequestException](err) {
		t.Errorf("a group created with an aws: tag: %v, want InvalidRequestException", err)
	}
	if _, err := c.GetGroup(ctx, &xray.GetGroupInput{GroupName: awssdk.String("overtagged")}); err == nil {
		t.Errorf("the group refused for its tags was made")
	}

	srv = restart(t, srv, dir)
	c = xrayClient(srv)
	wantTags(t, c, "after a restart", ruleARN, ruleTags)
	wantTags(t, c, "after a restart", groupARN, groupTags)
	wantTags(t, c, "after a restart", defaultRule, map[string]string{"default": "yes"})

	// Deleted, a resource's tags go; a resource made again with its name starts without.
	if _, err := c.DeleteSamplingRule(ctx, &xray.DeleteSamplingRuleInput{RuleARN: &ruleARN}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteGroup(ctx, &xray.DeleteGroupInput{GroupARN: &groupARN}); err != nil {
		t.Fatal(err)
	}
	for _, arn := range []string{ruleARN, groupARN} {
		if _, err := listTags(t, c, arn); !isError[*types.ResourceNotFoundException](err) {
			t.Errorf("tags of the deleted %s: %v, want ResourceNotFoundException", arn, err)
		}
	}
	if _, err := c.CreateSamplingRule(ctx, &xray.CreateSamplingRuleInput{SamplingRule: checkRule("tagged")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateGroup(ctx, &xray.CreateGroupInput{GroupName: awssdk.String("tagged")}); err != nil {
		t.Fatal(err)
	}
	wantTags(t, c, "made again", ruleARN, map[string]string{})
	wantTags(t, c, "made again", groupARN, map[string]string{})
}

// TestXRaySDKv2Encryption sets the encryption configuration with aws-sdk-go-v2 and reads it
// back, after a restart too; lookout keeps it without encrypting anything.
func TestXRaySDKv2Encryption(t *testing.T) {
	dir := t.TempDir()
	srv := start(t, func(c *server.Config) { c.DataDir = dir })
	ctx := context.Background()
	c := xrayClient(srv)
	want := func(when string, typ types.EncryptionType, key string) {
		t.Helper()
		out, err := c.GetEncryptionConfig(ctx, &xray.GetEncryptionConfigInput{})
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		got := out.EncryptionConfig
		if got.Type != typ || got.Status != types.EncryptionStatusActive || awssdk.ToString(got.KeyId) != key {
			t.Errorf("%s: %s %s key %q; want %s ACTIVE key %q", when, got.Type, got.Status, awssdk.ToString(got.KeyId), typ, key)
		}
	}
	want("at first", types.EncryptionTypeNone, "")

	const key = "arn:aws:kms:us-east-1:000000000000:key/0d8f2c5e-1b7a-4c3e-9f61-2a4b6c8d0e1f"
	put, err := c.PutEncryptionConfig(ctx, &xray.PutEncryptionConfigInput{Type: types.EncryptionTypeKms, KeyId: awssdk.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	if got := put.EncryptionConfig; got.Type != types.EncryptionTypeKms || awssdk.ToString(got.KeyId) != key || got.Status != types.EncryptionStatusActive {
		t.Errorf("PutEncryptionConfig answered %s %s key %q", got.Type, got.Status, awssdk.ToString(got.KeyId))
	}
	want("set to KMS", types.EncryptionTypeKms, key)

	for name, in := range map[string]*xray.PutEncryptionConfigInput{
		"KMS without a key": {Type: types.EncryptionTypeKms},
		"another type":      {Type: types.EncryptionType("AES256"), KeyId: awssdk.String(key)},
	} {
		if _, err := c.PutEncryptionConfig(ctx, in); !isError[*types.InvalidRequestException](err) {
			t.Errorf("%s: %v, want InvalidRequestException", name, err)
		}
	}
	want("after the refusals", types.EncryptionTypeKms, key)

	srv = restart(t, srv, dir)
	c = xrayClient(srv)
	want("after a restart", types.EncryptionTypeKms, key)
	if _, err := c.PutEncryptionConfig(ctx, &xray.PutEncryptionConfigInput{Type: types.EncryptionTypeNone}); err != nil {
		t.Fatal(err)
	}
	want("set back to NONE", types.EncryptionTypeNone, "")
}

// TestXRaySDKv2Groups makes, reads, changes and deletes a group with aws-sdk-go-v2, naming
// it by name and by ARN.
func TestXRaySDKv2Groups(t *testing.T) {
	srv := start(t)
	ctx := context.Background()
	c := xrayClient(srv)
	filter := `service("checkout") { fault = true }`
	made, err := c.CreateGroup(ctx, &xray.CreateGroupInput{GroupName: awssdk.String("checkout-faults"), FilterExpression: &filter,
		InsightsConfiguration: &types.InsightsConfiguration{InsightsEnabled: awssdk.Bool(true), NotificationsEnabled: awssdk.Bool(false)}})
	if err != nil {
		t.Fatal(err)
	}
	arn := awssdk.ToString(made.Group.GroupARN)
	if awssdk.ToString(made.Group.GroupName) != "checkout-faults" || arn == "" {
		t.Fatalf("CreateGroup answered %+v", made.Group)
	}
	want := func(when string, g *types.Group, filter string, insights bool) {
		t.Helper()
		if awssdk.ToString(g.GroupName) != "checkout-faults" || awssdk.ToString(g.GroupARN) != arn || awssdk.ToString(g.FilterExpression) != filter ||
			g.InsightsConfiguration == nil || awssdk.ToBool(g.InsightsConfiguration.InsightsEnabled) != insights || awssdk.ToBool(g.InsightsConfiguration.NotificationsEnabled) {
			t.Errorf("%s: %s %s %q %+v; want filter %q, insights %v", when, awssdk.ToString(g.GroupName), awssdk.ToString(g.GroupARN),
				awssdk.ToString(g.FilterExpression), g.InsightsConfiguration, filter, insights)
		}
	}
	want("as made", made.Group, filter, true)
	for by, in := range map[string]*xray.GetGroupInput{"by name": {GroupName: awssdk.String("checkout-faults")}, "by ARN": {GroupARN: &arn}} {
		got, err := c.GetGroup(ctx, in)
		if err != nil {
			t.Fatalf("GetGroup %s: %v", by, err)
		}
		want("GetGroup "+by, got.Group, filter, true)
	}

	changed := `service("checkout") { fault = true OR responsetime > 2 }`
	updated, err := c.UpdateGroup(ctx, &xray.UpdateGroupInput{GroupARN: &arn, FilterExpression: &changed})
	if err != nil {
		t.Fatal(err)
	}
	want("UpdateGroup's answer", updated.Group, changed, true)
	updated, err = c.UpdateGroup(ctx, &xray.UpdateGroupInput{GroupName: awssdk.String("checkout-faults"),
		InsightsConfiguration: &types.InsightsConfiguration{InsightsEnabled: awssdk.Bool(false), NotificationsEnabled: awssdk.Bool(false)}})
	if err != nil {
		t.Fatal(err)
	}
	want("insights turned off", updated.Group, changed, false)
	got, err := c.GetGroup(ctx, &xray.GetGroupInput{GroupName: awssdk.String("checkout-faults")})
	if err != nil {
		t.Fatal(err)
	}
	want("GetGroup after the updates", got.Group, changed, false)
	if _, err := c.UpdateGroup(ctx, &xray.UpdateGroupInput{GroupARN: &arn, FilterExpression: awssdk.String(`service(`)}); !isError[*types.InvalidRequestException](err) {
		t.Errorf("an update to a filter that does not parse: %v, want InvalidRequestException", err)
	}

	if _, err := c.DeleteGroup(ctx, &xray.DeleteGroupInput{GroupName: awssdk.String("checkout-faults")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetGroup(ctx, &xray.GetGroupInput{GroupARN: &arn}); !isError[*types.InvalidRequestException](err) {
		t.Errorf("GetGroup of the deleted group: %v, want InvalidRequestException", err)
	}
	if _, err := c.DeleteGroup(ctx, &xray.DeleteGroupInput{GroupARN: &arn}); !isError[*types.InvalidRequestException](err) {
		t.Errorf("deleting the deleted group: %v, want InvalidRequestException", err)
	}
	all, err := c.GetGroups(ctx, &xray.GetGroupsInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range all.Groups {
		if awssdk.ToString(g.GroupName) == "checkout-faults" {
			t.Errorf("GetGroups lists the deleted group: %+v", g)
		}
	}
}

// TestXRaySDKv2SamplingRuleChanges updates and deletes sampling rules with aws-sdk-go-v2, by
// name and by ARN: an update changes only what it sets.
func TestXRaySDKv2SamplingRuleChanges(t *testing.T) {
	srv := start(t)
	ctx := context.Background()
	c := xrayClient(srv)
	sent := checkRule("orders")
	made, err := c.CreateSamplingRule(ctx, &xray.CreateSamplingRuleInput{SamplingRule: sent})
	if err != nil {
		t.Fatal(err)
	}
	arn := *made.SamplingRuleRecord.SamplingRule.RuleARN

	first, err := c.UpdateSamplingRule(ctx, &xray.UpdateSamplingRuleInput{SamplingRuleUpdate: &types.SamplingRuleUpdate{
		RuleName: awssdk.String("orders"), FixedRate: awssdk.Float64(0.5), URLPath: awssdk.String("/orders/*")}})
	if err != nil {
		t.Fatal(err)
	}
	if r := first.SamplingRuleRecord.SamplingRule; r.FixedRate != 0.5 || *r.URLPath != "/orders/*" || *r.Priority != *sent.Priority || r.ReservoirSize != sent.ReservoirSize {
		t.Errorf("after an update of the rate and path: %+v", r)
	}
	updated, err := c.UpdateSamplingRule(ctx, &xray.UpdateSamplingRuleInput{SamplingRuleUpdate: &types.SamplingRuleUpdate{
		RuleARN: &arn, Priority: awssdk.Int32(7), ReservoirSize: awssdk.Int32(4)}})
	if err != nil {
		t.Fatal(err)
	}
	r := updated.SamplingRuleRecord.SamplingRule
	if r.FixedRate != 0.5 || *r.URLPath != "/orders/*" || *r.Priority != 7 || r.ReservoirSize != 4 ||
		*r.RuleName != "orders" || *r.RuleARN != arn || *r.HTTPMethod != *sent.HTTPMethod || *r.Host != *sent.Host || *r.ServiceName != *sent.ServiceName {
		t.Errorf("after two updates: %+v", r)
	}
	if rec := updated.SamplingRuleRecord; rec.ModifiedAt.Before(*rec.CreatedAt) || !rec.CreatedAt.Equal(*made.SamplingRuleRecord.CreatedAt) {
		t.Errorf("times after the updates: created %v (made %v), modified %v", rec.CreatedAt, made.SamplingRuleRecord.CreatedAt, rec.ModifiedAt)
	}
	rules, err := c.GetSamplingRules(ctx, &xray.GetSamplingRulesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if got := rules.SamplingRuleRecords[0].SamplingRule; *got.RuleName != "orders" || got.FixedRate != 0.5 || *got.Priority != 7 {
		t.Errorf("GetSamplingRules after the updates: %+v", got)
	}

	for name, u := range map[string]*types.SamplingRuleUpdate{
		"a rule named twice": {RuleName: awssdk.String("orders"), RuleARN: &arn, FixedRate: awssdk.Float64(0.1)},
		"a rate above 1":     {RuleName: awssdk.String("orders"), FixedRate: awssdk.Float64(1.5)},
		"an unknown rule":    {RuleName: awssdk.String("never-made"), FixedRate: awssdk.Float64(0.1)},
	} {
		if _, err := c.UpdateSamplingRule(ctx, &xray.UpdateSamplingRuleInput{SamplingRuleUpdate: u}); !isError[*types.InvalidRequestException](err) {
			t.Errorf("updating %s: %v, want InvalidRequestException", name, err)
		}
	}

	deleted, err := c.DeleteSamplingRule(ctx, &xray.DeleteSamplingRuleInput{RuleARN: &arn})
	if err != nil {
		t.Fatal(err)
	}
	if r := deleted.SamplingRuleRecord.SamplingRule; *r.RuleName != "orders" || r.FixedRate != 0.5 {
		t.Errorf("DeleteSamplingRule answered %+v", r)
	}
	rules, err = c.GetSamplingRules(ctx, &xray.GetSamplingRulesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rules.SamplingRuleRecords) != 1 || *rules.SamplingRuleRecords[0].SamplingRule.RuleName != "Default" {
		t.Errorf("rules after the delete: %+v", rules.SamplingRuleRecords)
	}
	for name, in := range map[string]*xray.DeleteSamplingRuleInput{
		"the deleted rule": {RuleName: awssdk.String("orders")},
		"the Default rule": {RuleName: awssdk.String("Default")},
		"by name and ARN":  {RuleName: awssdk.String("orders"), RuleARN: &arn},
	} {
		if _, err := c.DeleteSamplingRule(ctx, in); !isError[*types.InvalidRequestException](err) {
			t.Errorf("deleting %s: %v, want InvalidRequestException", name, err)
		}
	}
}
