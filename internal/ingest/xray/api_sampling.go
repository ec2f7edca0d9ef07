package xray

import (
	"context"
	"errors"
	"net/http"

	"lookout/internal/aws"
	"lookout/internal/xray/sampling"
)

// samplingError maps the sampler's errors to X-Ray's exceptions.
func samplingError(err error) *aws.Error {
	switch {
	case errors.Is(err, sampling.ErrNotFound):
		return invalid("Sampling rule does not exist")
	case errors.Is(err, sampling.ErrExists):
		return invalid("A sampling rule with this name already exists")
	case errors.Is(err, sampling.ErrInvalid):
		return invalid("%v", err)
	}
	return internal(err)
}

// GetSamplingRules answers every rule in one page: no SDK asks for another.
func (a *API) getSamplingRules(context.Context, []byte) (any, *aws.Error) {
	return map[string]any{"SamplingRuleRecords": a.cfg.Sampler.Rules(), "NextToken": nil}, nil
}

// GetSamplingTargets shares each rule's reservoir among the clients that ask.
func (a *API) getSamplingTargets(_ context.Context, body []byte) (any, *aws.Error) {
	var req struct {
		SamplingStatisticsDocuments []sampling.Statistic
	}
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	if len(req.SamplingStatisticsDocuments) > 25 {
		return nil, invalid("at most 25 SamplingStatisticsDocuments are allowed")
	}
	targets, unprocessed := a.cfg.Sampler.Targets(req.SamplingStatisticsDocuments)
	if targets == nil {
		targets = []sampling.Target{}
	}
	if unprocessed == nil {
		unprocessed = []sampling.Unprocessed{}
	}
	return map[string]any{
		"SamplingTargetDocuments":    targets,
		"LastRuleModification":       a.cfg.Sampler.LastModification(),
		"UnprocessedStatistics":      unprocessed,
		"UnprocessedBoostStatistics": []any{},
	}, nil
}

func (a *API) createSamplingRule(ctx context.Context, body []byte) (any, *aws.Error) {
	var req struct {
		SamplingRule sampling.Rule
		Tags         []Tag
	}
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	if err := checkNewTags(req.Tags); err != nil {
		return nil, err
	}
	a.changes.Lock()
	defer a.changes.Unlock()
	rec, err := a.cfg.Sampler.Create(ctx, req.SamplingRule, false)
	if err != nil {
		return nil, samplingError(err)
	}
	if err := a.createdTags(ctx, rec.SamplingRule.RuleARN, req.Tags); err != nil {
		return nil, err
	}
	return map[string]any{"SamplingRuleRecord": rec}, nil
}

// ruleUpdate holds the fields an update sets; nil ones stay.
type ruleUpdate struct {
	RuleName, RuleARN                                                *string
	ResourceARN, ServiceName, ServiceType, Host, HTTPMethod, URLPath *string
	Priority, ReservoirSize                                          *int
	FixedRate                                                        *float64
	Attributes                                                       map[string]string
}

func (a *API) updateSamplingRule(ctx context.Context, body []byte) (any, *aws.Error) {
	var req struct{ SamplingRuleUpdate ruleUpdate }
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	u := req.SamplingRuleUpdate
	name, aerr := ruleName(u.RuleName, u.RuleARN)
	if aerr != nil {
		return nil, aerr
	}
	rec, err := a.cfg.Sampler.Update(ctx, name, func(r *sampling.Rule) {
		for _, f := range []struct {
			dst *string
			src *string
		}{{&r.ResourceARN, u.ResourceARN}, {&r.ServiceName, u.ServiceName}, {&r.ServiceType, u.ServiceType},
			{&r.Host, u.Host}, {&r.HTTPMethod, u.HTTPMethod}, {&r.URLPath, u.URLPath}} {
			if f.src != nil {
				*f.dst = *f.src
			}
		}
		if u.Priority != nil {
			r.Priority = *u.Priority
		}
		if u.ReservoirSize != nil {
			r.ReservoirSize = *u.ReservoirSize
		}
		if u.FixedRate != nil {
			r.FixedRate = *u.FixedRate
		}
		if u.Attributes != nil {
			r.Attributes = u.Attributes
		}
	})
	if err != nil {
		return nil, samplingError(err)
	}
	return map[string]any{"SamplingRuleRecord": rec}, nil
}

func (a *API) deleteSamplingRule(ctx context.Context, body []byte) (any, *aws.Error) {
	var req struct{ RuleName, RuleARN *string }
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	name, aerr := ruleName(req.RuleName, req.RuleARN)
	if aerr != nil {
		return nil, aerr
	}
	a.changes.Lock()
	defer a.changes.Unlock()
	rec, err := a.cfg.Sampler.Delete(ctx, name)
	if err != nil {
		return nil, samplingError(err)
	}
	if err := a.setTags(ctx, rec.SamplingRule.RuleARN, nil); err != nil {
		return nil, err
	}
	return map[string]any{"SamplingRuleRecord": rec}, nil
}

// ruleName is the rule a request names, by name or by ARN but not both.
func ruleName(name, arn *string) (string, *aws.Error) {
	switch {
	case name != nil && arn != nil:
		return "", invalid("specify RuleName or RuleARN, not both")
	case name != nil:
		return *name, nil
	case arn != nil:
		return sampling.NameOf(*arn), nil
	}
	return "", aws.Errorf(http.StatusBadRequest, "InvalidRequestException", "RuleName or RuleARN is required")
}

// GetSamplingStatisticSummaries sums the last hour's reports per rule.
func (a *API) samplingStatisticSummaries(context.Context, []byte) (any, *aws.Error) {
	type summary struct {
		RuleName                                string
		Timestamp                               float64
		RequestCount, BorrowCount, SampledCount int64
	}
	byRule := map[string]*summary{}
	var order []string
	for _, st := range a.cfg.Sampler.Statistics() {
		s, ok := byRule[st.RuleName]
		if !ok {
			s = &summary{RuleName: st.RuleName, Timestamp: st.Timestamp}
			byRule[st.RuleName] = s
			order = append(order, st.RuleName)
		}
		s.RequestCount += st.RequestCount
		s.BorrowCount += st.BorrowCount
		s.SampledCount += st.SampledCount
	}
	out := make([]summary, 0, len(order))
	for _, name := range order {
		out = append(out, *byRule[name])
	}
	return map[string]any{"SamplingStatisticSummaries": out}, nil
}
