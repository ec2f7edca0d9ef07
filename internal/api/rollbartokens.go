package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"lookout/internal/ingest/rollbar"
)

// Rollbar's projects and access tokens, managed from the UI (with ManageRollbarTokens):
//
//	GET    /api/v1/errors/access              projects, tokens (their first characters) and
//	                                          whether tokens never seen are accepted
//	POST   /api/v1/errors/tokens              {project, name, scopes}: a new token, shown whole
//	                                          only in this answer
//	DELETE /api/v1/errors/tokens/{id}         revoke a token
//	PUT    /api/v1/errors/access              {open}: accept tokens never seen, or only these

// TokenAdmin manages who may send Rollbar items; rollbar.Projects is one.
type TokenAdmin interface {
	Access() rollbar.Access
	CreateToken(ctx context.Context, project, name string, scopes []rollbar.Scope) (string, rollbar.TokenInfo, error)
	RevokeToken(ctx context.Context, id string) error
	SetOpen(ctx context.Context, open bool) error
}

// ManageRollbarTokens serves the token endpoints for t; call it before Register.
func (a *API) ManageRollbarTokens(t TokenAdmin) { a.tokens = t }

func (a *API) registerTokens(mux *http.ServeMux) {
	mux.Handle("GET /api/v1/errors/access", a.wrap(func(*http.Request) (any, error) { return a.tokens.Access(), nil }))
	mux.Handle("PUT /api/v1/errors/access", a.wrap(a.setAccess))
	mux.Handle("POST /api/v1/errors/tokens", a.wrap(a.createToken))
	mux.Handle("DELETE /api/v1/errors/tokens/{id}", a.wrap(a.revokeToken))
}

// tokenError shows a refused change as a 400 with its reason.
func tokenError(err error) error {
	var ae *rollbar.AdminError
	if errors.As(err, &ae) {
		return badRequest("%s", ae.Msg)
	}
	return err
}

func (a *API) setAccess(r *http.Request) (any, error) {
	var in struct {
		Open *bool `json:"open"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 4096)).Decode(&in); err != nil || in.Open == nil {
		return nil, badRequest(`the body must be {"open": true or false}`)
	}
	if err := a.tokens.SetOpen(r.Context(), *in.Open); err != nil {
		return nil, tokenError(err)
	}
	return a.tokens.Access(), nil
}

func (a *API) createToken(r *http.Request) (any, error) {
	var in struct {
		Project string          `json:"project"`
		Name    string          `json:"name"`
		Scopes  []rollbar.Scope `json:"scopes"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 16<<10)).Decode(&in); err != nil {
		return nil, badRequest(`the body must be {"project": NAME, "name": NAME, "scopes": [SCOPE, ...]}`)
	}
	token, info, err := a.tokens.CreateToken(r.Context(), in.Project, in.Name, in.Scopes)
	if err != nil {
		return nil, tokenError(err)
	}
	return struct {
		rollbar.TokenInfo
		Token string `json:"token"`
	}{info, token}, nil
}

func (a *API) revokeToken(r *http.Request) (any, error) {
	if err := a.tokens.RevokeToken(r.Context(), r.PathValue("id")); err != nil {
		return nil, tokenError(err)
	}
	return a.tokens.Access(), nil
}
