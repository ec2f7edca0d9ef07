package rollbar

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"lookout/internal/store"
)

// Projects and tokens managed from the UI. What the UI changes is kept in the store's
// settings so that it outlives a restart: the tokens made there, and whether tokens lookout
// has never seen are still accepted. A token file's tokens are shown as the file gives them;
// the UI may add tokens beside them, not change or revoke them.

// Settings kinds.
const (
	settingsTokens = "rollbar-token"  // by token id: a savedToken
	settingsAccess = "rollbar-access" // accessKey: {"open": bool}
	accessKey      = "any-token"
)

// savedToken is a token as the settings keep it. The token itself is kept, as Rollbar keeps
// it: clients send it in clear.
type savedToken struct {
	Token   string    `json:"token"`
	Project string    `json:"project"`
	Name    string    `json:"name"`
	Scopes  []Scope   `json:"scopes"`
	Source  string    `json:"source"`
	Created time.Time `json:"created"`
}

// AdminError is a change of projects or tokens that was refused; Msg says why.
type AdminError struct{ Msg string }

func (e *AdminError) Error() string { return e.Msg }

func refused(format string, args ...any) error { return &AdminError{Msg: fmt.Sprintf(format, args...)} }

// KeepIn restores from settings what the UI changed before and keeps later changes there. A
// token file's choice to accept only its tokens wins over a kept one.
func (p *Projects) KeepIn(ctx context.Context, settings store.SettingsStore) error {
	tokens, err := settings.Settings(ctx, settingsTokens)
	if err != nil {
		return err
	}
	access, err := settings.Settings(ctx, settingsAccess)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, b := range tokens {
		var t savedToken
		if err := json.Unmarshal(b, &t); err != nil || t.Token == "" {
			return fmt.Errorf("rollbar token %s in the settings: %v", id, err)
		}
		if p.tokens[t.Token] == nil {
			p.add(&t)
		}
	}
	if b, ok := access[accessKey]; ok && !p.fromFile {
		var a struct{ Open bool }
		if err := json.Unmarshal(b, &a); err != nil {
			return fmt.Errorf("rollbar access in the settings: %v", err)
		}
		p.open = a.Open
	}
	p.settings = settings
	return nil
}

// add makes a saved token known; p.mu is held.
func (p *Projects) add(t *savedToken) *Token {
	tok := &Token{Project: t.Project, Name: t.Name, ID: tokenID(t.Token), Scopes: t.Scopes, Source: t.Source, Created: t.Created}
	p.tokens[t.Token] = tok
	if !slices.Contains(p.names, t.Project) {
		p.names = append(p.names, t.Project)
	}
	return tok
}

// TokenInfo is a token as the UI shows it: its first characters, never all of it.
type TokenInfo struct {
	ID      string    `json:"id"`
	Project string    `json:"project"`
	Name    string    `json:"name"`
	Prefix  string    `json:"prefix"`
	Scopes  []Scope   `json:"scopes"`
	Source  string    `json:"source"`
	Created time.Time `json:"created,omitzero"`
}

// Access is who may send: the projects and their tokens, and whether other tokens are
// accepted.
type Access struct {
	Open     bool        `json:"open"`     // a token never seen is accepted, with a project of its own
	FromFile bool        `json:"fromFile"` // a token file fixes the projects
	Projects []string    `json:"projects"` // sorted
	Tokens   []TokenInfo `json:"tokens"`   // by project, then name
}

// Access returns the projects and tokens.
func (p *Projects) Access() Access {
	p.mu.Lock()
	defer p.mu.Unlock()
	a := Access{Open: p.open, FromFile: p.fromFile, Projects: slices.Sorted(slices.Values(p.names)), Tokens: []TokenInfo{}}
	for token, t := range p.tokens {
		a.Tokens = append(a.Tokens, t.info(token))
	}
	slices.SortFunc(a.Tokens, func(x, y TokenInfo) int {
		return cmp.Or(cmp.Compare(x.Project, y.Project), cmp.Compare(x.Name, y.Name), cmp.Compare(x.ID, y.ID))
	})
	return a
}

// maxNameLength bounds project and token names made in the UI.
const maxNameLength = 100

// CreateToken makes a token of 32 hex digits, as Rollbar's, for project (made when new) with
// scopes, and returns it: the only time it is shown whole.
func (p *Projects) CreateToken(ctx context.Context, project, name string, scopes []Scope) (string, TokenInfo, error) {
	project, name = strings.TrimSpace(project), strings.TrimSpace(name)
	switch {
	case project == "" || len(project) > maxNameLength:
		return "", TokenInfo{}, refused("a project name has 1 to %d characters", maxNameLength)
	case name == "" || len(name) > maxNameLength:
		return "", TokenInfo{}, refused("a token name has 1 to %d characters", maxNameLength)
	case len(scopes) == 0:
		return "", TokenInfo{}, refused("a token needs at least one scope")
	}
	for _, s := range scopes {
		if !slices.Contains(allScopes, s) {
			return "", TokenInfo{}, refused("unknown scope %q: the scopes are post_server_item, post_client_item, read and write", s)
		}
	}
	b := make([]byte, 16)
	rand.Read(b)
	token := hex.EncodeToString(b)
	t := savedToken{Token: token, Project: project, Name: name, Scopes: slices.Compact(slices.Sorted(slices.Values(scopes))), Source: TokenFromUI, Created: p.now().UTC()}
	if err := p.save(ctx, &t); err != nil {
		return "", TokenInfo{}, err
	}
	p.mu.Lock()
	tok := p.add(&t)
	p.mu.Unlock()
	return token, tok.info(token), nil
}

// info is the token t, whose text is token, as the UI shows it.
func (t *Token) info(token string) TokenInfo {
	return TokenInfo{ID: t.ID, Project: t.Project, Name: t.Name, Prefix: token[:min(4, len(token))], Scopes: t.Scopes, Source: t.Source, Created: t.Created}
}

// save keeps a token in the settings, when there are any.
func (p *Projects) save(ctx context.Context, t *savedToken) error {
	if p.settings == nil {
		return nil
	}
	b, _ := json.Marshal(t)
	return p.settings.PutSetting(ctx, settingsTokens, tokenID(t.Token), b)
}

// RevokeToken stops accepting a token made in the UI or seen from a client. While any token
// is accepted, revoking would not keep the token out, so that is refused.
func (p *Projects) RevokeToken(ctx context.Context, id string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for token, t := range p.tokens {
		if t.ID != id {
			continue
		}
		switch {
		case t.Source == TokenFromFile:
			return refused("token %s comes from the token file: change it there", t.Name)
		case p.open:
			return refused("lookout accepts any token: accept only the listed tokens first, or %s is accepted again with its next item", t.Name)
		}
		if p.settings != nil {
			if err := p.settings.DeleteSetting(ctx, settingsTokens, id); err != nil {
				return err
			}
		}
		delete(p.tokens, token)
		return nil
	}
	return fmt.Errorf("token %s: %w", id, store.ErrNotFound)
}

// SetOpen chooses whether tokens never seen are accepted. Closing keeps the tokens seen so
// far, so that the clients already sending go on; a token file's projects cannot be opened.
func (p *Projects) SetOpen(ctx context.Context, open bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fromFile && open {
		return refused("the token file fixes the projects and tokens: remove --rollbar-tokens to accept any token")
	}
	if p.settings != nil {
		if !open {
			for token, t := range p.tokens {
				if t.Source == TokenSeen {
					if err := p.save(ctx, &savedToken{Token: token, Project: t.Project, Name: t.Name, Scopes: t.Scopes, Source: t.Source, Created: t.Created}); err != nil {
						return err
					}
				}
			}
		}
		b, _ := json.Marshal(map[string]bool{"open": open})
		if err := p.settings.PutSetting(ctx, settingsAccess, accessKey, b); err != nil {
			return err
		}
	}
	p.open = open
	return nil
}
