package rollbar

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestTokensFromFileStayFixed: with a token file, the UI may add tokens but cannot revoke the
// file's or accept tokens never seen.
func TestTokensFromFileStayFixed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.json")
	os.WriteFile(path, []byte(`{"projects":[{"name":"shop","tokens":[{"token":"filetoken0000","name":"server","scopes":["post_server_item"]}]}]}`), 0o600)
	p, err := LoadProjects(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var ae *AdminError
	if err := p.SetOpen(ctx, true); !errors.As(err, &ae) || p.Open() {
		t.Errorf("opening a token file's projects: %v, open %v", err, p.Open())
	}
	a := p.Access()
	if len(a.Tokens) != 1 || a.Tokens[0].Source != TokenFromFile || a.Tokens[0].Prefix != "file" || !a.FromFile {
		t.Fatalf("access %+v", a)
	}
	if err := p.RevokeToken(ctx, a.Tokens[0].ID); !errors.As(err, &ae) {
		t.Errorf("revoking the file's token: %v", err)
	}
	token, info, err := p.CreateToken(ctx, "shop", "ci", []Scope{Read, Read, PostServerItem})
	if err != nil || len(info.Scopes) != 2 {
		t.Fatalf("create: %+v %v", info, err)
	}
	if tok, rerr := p.Authorize(token, Read, ""); rerr != nil || tok.Project != "shop" {
		t.Errorf("the new token: %+v %v", tok, rerr)
	}
	if err := p.RevokeToken(ctx, info.ID); err != nil {
		t.Fatal(err)
	}
	if _, rerr := p.Authorize(token, Read, ""); rerr == nil || rerr.Status != 403 {
		t.Errorf("a revoked token: %v", rerr)
	}
}
