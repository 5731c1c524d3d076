package auth

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"

	"arrs.nhs.uk/arrs/claims"
)

func TestDevKeysAreCreatedOnceAndReused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), ".data")
	first, err := LoadOrCreateDevKeys(dir)
	must(t, err)
	info, err := os.Stat(filepath.Join(dir, DevKeyFile))
	must(t, err)
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("key file mode %v, want 0600", perm)
	}
	if !strings.HasPrefix(first.KeyID(), DevKeyIDPrefix) {
		t.Errorf("kid %q lacks the development prefix", first.KeyID())
	}
	second, err := LoadOrCreateDevKeys(dir)
	must(t, err)
	if second.KeyID() != first.KeyID() || !bytes.Equal(second.JWKS(), first.JWKS()) {
		t.Fatal("a second load made a new key")
	}
	// A token from the first process verifies in the next.
	token, err := first.Mint("dev-user", claims.RolePCNClinicalDirector, "U12345", time.Minute)
	must(t, err)
	if _, err := second.Verifier().Verify(t.Context(), token); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(first.JWKS(), []byte(`"d"`)) {
		t.Fatal("the public JWKS contains the private key")
	}
}

func TestDevKeysConcurrentCreationAgrees(t *testing.T) {
	dir := t.TempDir()
	const n = 8
	kids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			d, err := LoadOrCreateDevKeys(dir)
			if err != nil {
				t.Error(err)
				return
			}
			kids[i] = d.KeyID()
		})
	}
	wg.Wait()
	for _, kid := range kids[1:] {
		if kid != kids[0] {
			t.Fatalf("concurrent loads disagree: %v", kids)
		}
	}
}

func TestDevKeysRefuseAReadableKeyFile(t *testing.T) {
	dir := t.TempDir()
	_, err := LoadOrCreateDevKeys(dir)
	must(t, err)
	must(t, os.Chmod(filepath.Join(dir, DevKeyFile), 0o644))
	if _, err := LoadOrCreateDevKeys(dir); err == nil {
		t.Fatal("loaded a key file others can read")
	}
}

func TestDevMintedTokens(t *testing.T) {
	dev, err := LoadOrCreateDevKeys(t.TempDir())
	must(t, err)
	token, err := dev.Mint("dev-user", claims.RoleCommissionerApprover, "QNQ", time.Minute)
	must(t, err)
	id, err := dev.Verifier().Verify(t.Context(), token)
	must(t, err)
	if id.Subject != "dev-user" || id.Role != claims.RoleCommissionerApprover || id.OrgKind != claims.OrgCommissioner || id.OrgCode != "QNQ" {
		t.Fatalf("identity %+v", id)
	}

	// Mint refuses what Verify would refuse.
	for _, bad := range []struct {
		role claims.AccessRole
		org  string
		ttl  time.Duration
	}{
		{claims.RolePCNManager, "QNQ", time.Minute},
		{claims.RoleServiceAccount, "", time.Minute},
		{"superuser", "", time.Minute},
		{claims.RoleNationalAdministrator, "", 0},
	} {
		if _, err := dev.Mint("dev-user", bad.role, bad.org, bad.ttl); err == nil {
			t.Errorf("Mint(%s, %q, %s) succeeded", bad.role, bad.org, bad.ttl)
		}
	}

	// A production verifier does not take development tokens, even from a
	// key set that someone has copied the development key into.
	prodKey := newKey(t, jwa.EdDSA(), "prod-1", false)
	prod := newFileVerifier(t, JWTConfig{}, prodKey)
	_, err = prod.Verify(t.Context(), token)
	assertReason(t, err, ReasonTokenInvalid, token)

	// The claims are the ones documented: iss, aud, iat = nbf, exp = iat + ttl.
	before := time.Now().Truncate(time.Second)
	token, err = dev.Mint("dev-user", claims.RoleNationalAdministrator, "", 90*time.Second)
	must(t, err)
	payload, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[1])
	must(t, err)
	var got struct {
		Iss  string   `json:"iss"`
		Aud  []string `json:"aud"`
		Sub  string   `json:"sub"`
		Iat  int64    `json:"iat"`
		Nbf  int64    `json:"nbf"`
		Exp  int64    `json:"exp"`
		Role string   `json:"arrs_role"`
		Org  *string  `json:"arrs_org"`
	}
	must(t, json.Unmarshal(payload, &got))
	if got.Iss != DevIssuer || len(got.Aud) != 1 || got.Aud[0] != DevAudience || got.Sub != "dev-user" ||
		got.Role != "national-administrator" || got.Org != nil ||
		got.Iat < before.Unix() || got.Nbf != got.Iat || got.Exp != got.Iat+90 {
		t.Fatalf("claims %+v", got)
	}
}

func TestRefuseDevKeys(t *testing.T) {
	dev, err := LoadOrCreateDevKeys(t.TempDir())
	must(t, err)
	dir := t.TempDir()
	devSet := filepath.Join(dir, "dev.json")
	must(t, os.WriteFile(devSet, dev.JWKS(), 0o600))
	prodSet := writeJWKS(t, newKey(t, jwa.RS256(), "prod-1", true))
	if !IsDevJWKS(dev.JWKS()) {
		t.Error("IsDevJWKS missed the development set")
	}
	if IsDevJWKS(publicJWKS(t, newKey(t, jwa.ES256(), "prod-2", false))) {
		t.Error("IsDevJWKS flagged a production set")
	}
	tests := []struct {
		name    string
		cfg     JWTConfig
		refused bool
	}{
		{"development issuer", JWTConfig{Issuer: DevIssuer, Audience: "arrs", JWKSFile: prodSet}, true},
		{"development key set", JWTConfig{Issuer: testIssuer, Audience: "arrs", JWKSFile: devSet}, true},
		{"production", JWTConfig{Issuer: testIssuer, Audience: "arrs", JWKSFile: prodSet}, false},
		{"production URL", JWTConfig{Issuer: testIssuer, Audience: "arrs", JWKSURL: "https://idp.example/jwks"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := RefuseDevKeys(tt.cfg); (err != nil) != tt.refused {
				t.Fatalf("RefuseDevKeys = %v, want refused %v", err, tt.refused)
			}
		})
	}
}
