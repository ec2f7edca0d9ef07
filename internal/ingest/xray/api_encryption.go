package xray

import (
	"context"
	"unicode/utf8"

	"lookout/internal/aws"
)

// encryptionKind and encryptionName are where the encryption configuration is kept.
const (
	encryptionKind = "xray-encryption"
	encryptionName = "config"
)

// EncryptionConfig is X-Ray's encryption configuration, in the API's shape. lookout keeps
// and reports it so that tools that set it find it set, but does not encrypt with KMS: the
// store's files are as the disk they are on keeps them.
type EncryptionConfig struct {
	KeyId  string `json:",omitempty"`
	Status string
	Type   string
}

// encryption is the configuration kept, or X-Ray's default: no encryption of its own.
func (a *API) encryption(ctx context.Context) (EncryptionConfig, *aws.Error) {
	c := EncryptionConfig{Type: "NONE"}
	if aerr := a.setting(ctx, encryptionKind, encryptionName, &c); aerr != nil {
		return c, aerr
	}
	c.Status = "ACTIVE" // nothing is applied, so a change is never under way
	return c, nil
}

func (a *API) getEncryptionConfig(ctx context.Context, _ []byte) (any, *aws.Error) {
	c, aerr := a.encryption(ctx)
	if aerr != nil {
		return nil, aerr
	}
	return map[string]any{"EncryptionConfig": c}, nil
}

func (a *API) putEncryptionConfig(ctx context.Context, body []byte) (any, *aws.Error) {
	var req struct{ KeyId, Type string }
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	c := EncryptionConfig{Type: req.Type, Status: "ACTIVE"}
	switch req.Type {
	case "KMS":
		if req.KeyId == "" || utf8.RuneCountInString(req.KeyId) > 3000 {
			return nil, invalid("KeyId must be 1 to 3000 characters when Type is KMS")
		}
		c.KeyId = req.KeyId
	case "NONE": // X-Ray asks for no KeyId; one given is not kept
	default:
		return nil, invalid("Type must be NONE or KMS")
	}
	if aerr := a.putSetting(ctx, encryptionKind, encryptionName, EncryptionConfig{KeyId: c.KeyId, Type: c.Type}); aerr != nil {
		return nil, aerr
	}
	return map[string]any{"EncryptionConfig": c}, nil
}
