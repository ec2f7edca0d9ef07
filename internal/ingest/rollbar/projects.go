package rollbar

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"

	"lookout/internal/store"
	"lookout/internal/triage"
)

// Scope is what an access token may do, as Rollbar names it.
type Scope string

const (
	PostServerItem Scope = "post_server_item" // post any item, and deploys
	PostClientItem Scope = "post_client_item" // post items of client platforms only
	Read           Scope = "read"             // the Read API's GETs
	Write          Scope = "write"            // the Read API's PATCHes
)

var allScopes = []Scope{PostServerItem, PostClientItem, Read, Write}

// clientPlatforms are the platforms whose items a post_client_item token may post.
var clientPlatforms = map[string]bool{"browser": true, "android": true, "ios": true, "flash": true, "client": true}

// Token is an access token of a project.
type Token struct {
	Project string
	Name    string // for people and rate-limit notices
	ID      string // names the token in stored occurrences without revealing it
	Scopes  []Scope
	Source  string    // where lookout learnt it: TokenFromFile, TokenFromUI or TokenSeen
	Created time.Time // when lookout learnt it; zero for a file's tokens
	limiter *limiter  // nil without a rate limit
}

// Where a token comes from.
const (
	TokenFromFile = "file" // the --rollbar-tokens file
	TokenFromUI   = "ui"   // made on the UI's tokens page
	TokenSeen     = "seen" // sent by a client while any token was accepted
)

// Projects knows the projects and their access tokens. Open (the default), it accepts any
// token, giving each one it has not seen a project of its own, named after it, with every
// scope; loaded from a file, it knows only the tokens the file lists.
type Projects struct {
	mu       sync.Mutex
	open     bool
	fromFile bool
	tokens   map[string]*Token
	rules    map[string][]triage.Rule
	names    []string            // configured projects, in file order
	settings store.SettingsStore // keeps what the UI changes; nil until KeepIn
	now      func() time.Time
}

// OpenProjects returns Projects that accept any token.
func OpenProjects() *Projects {
	return &Projects{open: true, tokens: map[string]*Token{}, rules: map[string][]triage.Rule{}, now: time.Now}
}

// projectsFile is the --rollbar-tokens file:
//
//	{"projects": [{"name": "cruddur",
//	   "grouping_rules": [ ...Rollbar custom grouping rules... ],
//	   "tokens": [{"token": "aaaa...", "name": "server", "scopes": ["post_server_item", "read"],
//	               "rate_limit": {"count": 1000, "per": "1m"}}]}]}
type projectsFile struct {
	Projects []struct {
		Name          string          `json:"name"`
		GroupingRules json.RawMessage `json:"grouping_rules"`
		Tokens        []struct {
			Token     string  `json:"token"`
			Name      string  `json:"name"`
			Scopes    []Scope `json:"scopes"`
			RateLimit *struct {
				Count int    `json:"count"`
				Per   string `json:"per"`
			} `json:"rate_limit"`
		} `json:"tokens"`
	} `json:"projects"`
}

// LoadProjects reads a projects file; only the tokens it lists are accepted.
func LoadProjects(path string) (*Projects, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f projectsFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	p := &Projects{fromFile: true, tokens: map[string]*Token{}, rules: map[string][]triage.Rule{}, now: time.Now}
	for _, proj := range f.Projects {
		if proj.Name == "" || slices.Contains(p.names, proj.Name) {
			return nil, fmt.Errorf("%s: every project needs a name of its own", path)
		}
		p.names = append(p.names, proj.Name)
		if len(proj.GroupingRules) > 0 {
			if p.rules[proj.Name], err = triage.ParseRules(proj.GroupingRules); err != nil {
				return nil, fmt.Errorf("%s: project %s: %w", path, proj.Name, err)
			}
		}
		for _, t := range proj.Tokens {
			if t.Token == "" || p.tokens[t.Token] != nil {
				return nil, fmt.Errorf("%s: project %s: every token must be given, once", path, proj.Name)
			}
			for _, s := range t.Scopes {
				if !slices.Contains(allScopes, s) {
					return nil, fmt.Errorf("%s: project %s: unknown scope %q", path, proj.Name, s)
				}
			}
			tok := &Token{Project: proj.Name, Name: t.Name, ID: tokenID(t.Token), Scopes: t.Scopes, Source: TokenFromFile}
			if tok.Name == "" {
				tok.Name = tok.ID
			}
			if rl := t.RateLimit; rl != nil {
				per, err := time.ParseDuration(rl.Per)
				if err != nil || per <= 0 || rl.Count <= 0 {
					return nil, fmt.Errorf("%s: project %s: a rate limit is a positive count per a duration such as \"1m\"", path, proj.Name)
				}
				tok.limiter = &limiter{limit: rl.Count, window: per}
			}
			p.tokens[t.Token] = tok
		}
	}
	return p, nil
}

// Open reports whether any token is accepted.
func (p *Projects) Open() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.open
}

// Names lists the configured projects; open Projects have none until tokens arrive.
func (p *Projects) Names() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.names)
}

// Rules returns a project's custom grouping rules.
func (p *Projects) Rules(project string) []triage.Rule {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rules[project]
}

// tokenID names a token without revealing it.
func tokenID(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:4])
}

// OpenProjectName is the project an open lookout files a new token's items under.
func OpenProjectName(token string) string {
	if len(token) > 8 {
		token = token[:8]
	}
	return "token-" + token
}

// maxToken bounds the tokens an open lookout takes as project names.
const maxToken = 128

// Authorize returns the token's project if the token may do what scope allows: 401 without
// a token, 403 for a token that is unknown or lacks the scope. A post_server_item token may
// post any item; a post_client_item token only those of client platforms (platform is the
// item's; "" for requests that post no item).
func (p *Projects) Authorize(token string, scope Scope, platform string) (*Token, *Error) {
	if token == "" {
		return nil, &Error{Status: http.StatusUnauthorized, Msg: "No access token found in request"}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	t := p.tokens[token]
	if t == nil {
		if !p.open || len(token) > maxToken {
			return nil, &Error{Status: http.StatusForbidden, Msg: "invalid access token"}
		}
		t = &Token{Project: OpenProjectName(token), Name: OpenProjectName(token), ID: tokenID(token), Scopes: allScopes, Source: TokenSeen, Created: p.now()}
		p.tokens[token] = t
		if !slices.Contains(p.names, t.Project) {
			p.names = append(p.names, t.Project)
		}
	}
	switch {
	case slices.Contains(t.Scopes, scope):
	case scope == PostServerItem && clientPlatforms[platform] && slices.Contains(t.Scopes, PostClientItem):
	default:
		return nil, &Error{Status: http.StatusForbidden, Msg: fmt.Sprintf("access token %s does not have scope %s", t.Name, scope)}
	}
	return t, nil
}
