package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"

	"arrs.nhs.uk/arrs/internal/auditkey"
	"arrs.nhs.uk/arrs/server/auth"
)

func TestProductionRefusesToStartWithoutAnIdentityProvider(t *testing.T) {
	logger := slog.New(slog.DiscardHandler)
	dir := t.TempDir()
	if _, _, err := authenticator(t.Context(), config{environment: "production", dataDir: dir}, logger); err == nil {
		t.Fatal("production started with the development key")
	}
	// Nor with the development key set passed off as an identity provider's.
	dev, err := auth.LoadOrCreateDevKeys(filepath.Join(dir, "auth"))
	if err != nil {
		t.Fatal(err)
	}
	jwks := filepath.Join(dir, "jwks.json")
	if err := os.WriteFile(jwks, dev.JWKS(), 0o600); err != nil {
		t.Fatal(err)
	}
	c := config{environment: "production", dataDir: dir}
	c.jwt = auth.JWTConfig{Issuer: "https://login.example.nhs.uk", Audience: "arrs", JWKSFile: jwks}
	if _, _, err := authenticator(t.Context(), c, logger); err == nil {
		t.Fatal("production accepted the development key set as its identity provider")
	}
	if _, dev, err := authenticator(t.Context(), config{environment: "development", dataDir: dir}, logger); err != nil || dev == nil || !auth.IsDevJWKS(dev.JWKS()) {
		t.Fatalf("development: %v, development key = %v", err, dev)
	}
}

func TestTokenCommandMintsADevelopmentToken(t *testing.T) {
	dir := t.TempDir()
	var out, errs bytes.Buffer
	err := run(t.Context(), []string{"token", "--data-dir", dir, "--role", "pcn-clinical-director", "--org", "U12345", "--subject", "cd@example"},
		func(string) string { return "" }, &out, &errs)
	if err != nil {
		t.Fatalf("token: %v (%s)", err, errs.String())
	}
	dev, err := auth.LoadOrCreateDevKeys(filepath.Join(dir, "auth"))
	if err != nil {
		t.Fatal(err)
	}
	id, err := dev.Verifier().Verify(t.Context(), strings.TrimSpace(out.String()))
	if err != nil || id.Subject != "cd@example" || id.OrgCode != "U12345" || id.Role != "pcn-clinical-director" {
		t.Fatalf("minted token verifies as %+v, %v", id, err)
	}
	err = run(t.Context(), []string{"token", "--data-dir", dir, "--role", "pcn-clinical-director", "--org", "QNQ"},
		func(string) string { return "" }, &out, &errs)
	if err == nil {
		t.Error("a PCN role with a commissioner's code was minted")
	}
}

// The console's development sign-in (POST /auth/dev/token) is wired only
// from the development key authenticator returns: with an identity provider
// configured there is none, so the endpoint is never registered.
func TestNoDevelopmentKeyWithAnIdentityProvider(t *testing.T) {
	logger := slog.New(slog.DiscardHandler)
	dir := t.TempDir()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key, err := jwk.Import(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]any{jwk.KeyIDKey: "idp-1", jwk.AlgorithmKey: jwa.EdDSA()} {
		if err := key.Set(name, v); err != nil {
			t.Fatal(err)
		}
	}
	set := jwk.NewSet()
	if err := set.AddKey(key); err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	jwks := filepath.Join(dir, "jwks.json")
	if err := os.WriteFile(jwks, data, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, env := range []string{"development", "production"} {
		c := config{environment: env, dataDir: dir}
		c.jwt = auth.JWTConfig{Issuer: "https://login.example.nhs.uk", Audience: "arrs", JWKSFile: jwks}
		authn, dev, err := authenticator(t.Context(), c, logger)
		if err != nil || authn == nil {
			t.Fatalf("%s with an identity provider: %v", env, err)
		}
		if dev != nil {
			t.Errorf("%s with an identity provider: the development key is in use, and the console could mint tokens", env)
		}
	}
}

func TestProductionRefusesToStartWithoutAnAuditKeyAndASink(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "audit.keys")
	if _, err := auditkey.LoadOrCreate(keyFile); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		c    config
		want string
	}{
		{"no key", config{environment: "production", dataDir: dir, checkpointDir: dir}, "--audit-key-file"},
		{"no sink", config{environment: "production", dataDir: dir, auditKeyFile: keyFile}, "--audit-checkpoint-dir"},
	} {
		if _, _, err := auditKeys(tc.c); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want a refusal naming %s", tc.name, err, tc.want)
		}
	}
	keys, cpDir, err := auditKeys(config{environment: "production", dataDir: dir, auditKeyFile: keyFile, checkpointLog: true})
	if err != nil || keys == nil || cpDir != "" {
		t.Errorf("production with a key and a log sink: %v, %q, %v", keys, cpDir, err)
	}
	// Development makes its key under the data directory, once.
	dev := t.TempDir()
	a, cpDir, err := auditKeys(config{environment: "development", dataDir: dev})
	if err != nil || cpDir != filepath.Join(dev, "audit-checkpoints") {
		t.Fatalf("development: %q, %v", cpDir, err)
	}
	b, _, err := auditKeys(config{environment: "development", dataDir: dev})
	if err != nil || a.ActiveKeyID() != b.ActiveKeyID() {
		t.Fatalf("development key changed between starts: %v", err)
	}
	ma, _ := a.MAC(a.ActiveKeyID(), []byte("m"))
	mb, _ := b.MAC(b.ActiveKeyID(), []byte("m"))
	if string(ma) != string(mb) {
		t.Error("development key changed between starts")
	}
}
