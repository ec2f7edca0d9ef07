// Package triage holds what error tracking decides independently of any store or wire
// format: which item an occurrence belongs to (its fingerprint, by Rollbar's default
// algorithm, the client's own fingerprint or a project's custom grouping rules, with an
// explanation people can read) and how an item's status moves (active, resolved, muted;
// reactivation by newer versions).
package triage
