package rollbar

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"unicode/utf8"

	"lookout/internal/store"
	"lookout/internal/triage"
)

// deployCreated is the answer to a new deploy, under "data" as rollbar-gem reads it.
type deployCreated struct {
	DeployID int64 `json:"deploy_id"`
}

// deployJSON is a deploy as Rollbar's API shows it.
type deployJSON struct {
	ID            int64  `json:"id"`
	ProjectID     int64  `json:"project_id"`
	Environment   string `json:"environment"`
	Revision      string `json:"revision"`
	LocalUsername string `json:"local_username"`
	RollbarUser   string `json:"rollbar_username"`
	Comment       string `json:"comment"`
	Status        string `json:"status"`
	StartTime     *int64 `json:"start_time"`
	FinishTime    *int64 `json:"finish_time"`
}

func deployView(d store.Deploy) deployJSON {
	return deployJSON{ID: d.ID, ProjectID: projectID(d.Project), Environment: d.Environment, Revision: d.Revision,
		LocalUsername: d.LocalUsername, RollbarUser: d.RollbarUser, Comment: d.Comment, Status: d.Status,
		StartTime: unixSeconds(d.StartTime), FinishTime: unixSeconds(d.FinishTime)}
}

var deployStatuses = []string{"started", "succeeded", "failed", "timed_out"}

// deployFields reads a deploy request's fields from a form or a JSON object.
func deployFields(r *http.Request) (map[string]string, *Error) {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, 1<<20))
	if err != nil {
		return nil, &Error{Status: http.StatusRequestEntityTooLarge, Msg: "request entity too large"}
	}
	fields := map[string]string{}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/x-www-form-urlencoded" {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, badRequest("the form cannot be read")
		}
		for k := range form {
			fields[k] = form.Get(k)
		}
		return fields, nil
	}
	var obj map[string]any
	if err := json.Unmarshal(body, &obj); err != nil {
		return nil, badRequest("no JSON object found in the body")
	}
	for k, v := range obj {
		switch v := v.(type) {
		case string:
			fields[k] = v
		case float64:
			fields[k] = strconv.FormatFloat(v, 'f', -1, 64)
		}
	}
	return fields, nil
}

// postDeploy serves POST /api/1/deploy/: the token may also be in the body. Its comment's
// "fix #N" resolves the project's item N in the deployed revision.
func (a *ReadAPI) postDeploy(w http.ResponseWriter, r *http.Request) {
	f, e := deployFields(r)
	if e == nil {
		var tok *Token
		if tok, e = a.projects.Authorize(accessToken(r, f["access_token"]), PostServerItem, ""); e == nil {
			var id int64
			if id, e = a.recordDeploy(r, tok, f); e == nil {
				writeJSON(w, http.StatusOK, map[string]any{"data": deployCreated{DeployID: id}})
				return
			}
		}
	}
	fail(w, e)
}

func (a *ReadAPI) recordDeploy(r *http.Request, tok *Token, f map[string]string) (int64, *Error) {
	revision := f["revision"]
	if revision == "" {
		revision = f["head_long"]
	}
	status := f["status"]
	if status == "" {
		status = "succeeded"
	}
	switch {
	case f["environment"] == "" || len(f["environment"]) > 255:
		return 0, invalid("environment is required, at most 255 characters")
	case revision == "" || len(revision) > 255:
		return 0, invalid("revision is required, at most 255 characters")
	case len(f["local_username"]) > 255 || len(f["rollbar_username"]) > 255 || len(f["comment"]) > 64<<10:
		return 0, invalid("local_username and rollbar_username are at most 255 characters, comment 64 KiB")
	case !slices.Contains(deployStatuses, status):
		return 0, invalid("status must be started, succeeded, failed or timed_out")
	}
	for _, v := range f {
		if !utf8.ValidString(v) {
			return 0, invalid("the fields must be UTF-8")
		}
	}
	now := a.now()
	d := store.Deploy{Project: tok.Project, Environment: f["environment"], Revision: revision, LocalUsername: f["local_username"],
		RollbarUser: f["rollbar_username"], Comment: f["comment"], Status: status, StartTime: now}
	if status != "started" {
		d.FinishTime = now
	}
	d, err := a.items.RecordDeploy(r.Context(), d)
	if err != nil {
		return 0, a.storeError(err)
	}
	if status == "started" || status == "succeeded" {
		a.resolveFixed(r, d)
	}
	return d.ID, nil
}

// fixes finds "fix #12", "fixes #12", "fixed #12" in a deploy's comment.
var fixes = regexp.MustCompile(`(?i)\bfix(?:es|ed)?\s+#(\d{1,18})\b`)

// resolveFixed resolves the items a deploy's comment says it fixes, in its revision.
func (a *ReadAPI) resolveFixed(r *http.Request, d store.Deploy) {
	resolved := triage.Resolved
	for _, m := range fixes.FindAllStringSubmatch(d.Comment, 20) {
		counter, _ := strconv.ParseInt(m[1], 10, 64)
		it, err := a.items.ItemByCounter(r.Context(), d.Project, counter)
		if err != nil {
			continue // no such item: nothing to resolve
		}
		version := d.Revision
		if len(version) > 40 {
			version = version[:40]
		}
		u := store.ItemUpdate{Status: &resolved, ResolvedInVersion: version, By: fmt.Sprintf("deploy %d", d.ID), Time: d.StartTime}
		if _, err := a.items.UpdateItem(r.Context(), it.ID, u); err != nil {
			a.log.Warn("rollbar: resolving a fixed item failed", "item", it.ID, "err", err)
		}
	}
}

// patchDeploy serves PATCH /api/1/deploy/{id}: {status, comment}.
func (a *ReadAPI) patchDeploy(r *http.Request, tok *Token) (any, *Error) {
	id, e := pathID(r, "id")
	if e != nil {
		return nil, e
	}
	var p struct{ Status, Comment string }
	if e := decodeJSON(r, &p); e != nil {
		return nil, e
	}
	if !slices.Contains(deployStatuses, p.Status) {
		return nil, invalid("status must be started, succeeded, failed or timed_out")
	}
	if len(p.Comment) > 64<<10 || !utf8.ValidString(p.Comment) {
		return nil, invalid("comment is at most 64 KiB of UTF-8")
	}
	d, err := a.items.UpdateDeploy(r.Context(), tok.Project, id, p.Status, p.Comment, a.now())
	if err != nil {
		return nil, a.storeError(err)
	}
	return deployView(d), nil
}

// getDeploy serves GET /api/1/deploy/{id}.
func (a *ReadAPI) getDeploy(r *http.Request, tok *Token) (any, *Error) {
	id, e := pathID(r, "id")
	if e != nil {
		return nil, e
	}
	d, err := a.items.Deploy(r.Context(), tok.Project, id)
	if err != nil {
		return nil, a.storeError(err)
	}
	return deployView(d), nil
}

// listDeploys serves GET /api/1/deploys/: pages of 20, newest first.
func (a *ReadAPI) listDeploys(r *http.Request, tok *Token) (any, *Error) {
	p, e := page(r)
	if e != nil {
		return nil, e
	}
	ds, err := a.items.Deploys(r.Context(), tok.Project, (p-1)*deploysPage, deploysPage)
	if err != nil {
		return nil, a.storeError(err)
	}
	views := make([]deployJSON, len(ds))
	for i, d := range ds {
		views[i] = deployView(d)
	}
	return map[string]any{"deploys": views, "page": p}, nil
}
