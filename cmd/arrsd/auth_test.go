package main

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
	if _, jwks, err := authenticator(t.Context(), config{environment: "development", dataDir: dir}, logger); err != nil || !auth.IsDevJWKS(jwks) {
		t.Fatalf("development: %v, JWKS served = %v", err, auth.IsDevJWKS(jwks))
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
