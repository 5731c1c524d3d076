package auth

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"

	"arrs.nhs.uk/arrs/claims"
)

func TestVerifyAcceptsEachAllowedAlgorithm(t *testing.T) {
	rsaKey := newKey(t, jwa.RS256(), "rsa-1", true)
	ecKey := newKey(t, jwa.ES256(), "ec-1", false)
	edKey := newKey(t, jwa.EdDSA(), "ed-1", true)
	v := newFileVerifier(t, JWTConfig{}, rsaKey, ecKey, edKey)
	now := time.Now()
	for _, k := range []signingKey{rsaKey, ecKey, edKey} {
		t.Run(k.alg.String(), func(t *testing.T) {
			id, err := v.Verify(context.Background(), k.sign(t, claimsAt(now)))
			if err != nil {
				t.Fatal(err)
			}
			want := Identity{Subject: "user-123", Role: claims.RolePCNManager, OrgKind: claims.OrgPCN, OrgCode: "U12345", Method: MethodJWT}
			if id.Subject != want.Subject || id.Role != want.Role || id.OrgKind != want.OrgKind ||
				id.OrgCode != want.OrgCode || id.Method != want.Method || id.Permissions != nil {
				t.Fatalf("identity %+v, want %+v", id, want)
			}
		})
	}
}

func TestVerifyRejects(t *testing.T) {
	rsaKey := newKey(t, jwa.RS256(), "rsa-1", false)
	ecKey := newKey(t, jwa.ES256(), "ec-1", true)
	edKey := newKey(t, jwa.EdDSA(), "ed-1", false)
	v := newFileVerifier(t, JWTConfig{}, rsaKey, ecKey, edKey)
	now := time.Now()
	valid := claimsAt(now)

	rsaPub, err := rsaKey.PublicKey()
	must(t, err)
	var rawPub any
	must(t, jwk.Export(rsaPub, &rawPub))
	der, err := x509.MarshalPKIXPublicKey(rawPub)
	must(t, err)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	pubJWK, err := json.Marshal(rsaPub)
	must(t, err)

	impostor := newKey(t, jwa.RS256(), "rsa-1", false) // same kid, other key
	stranger := newKey(t, jwa.EdDSA(), "ed-9", false)  // kid not in the set

	tamper := func(token string) string {
		parts := strings.Split(token, ".")
		c, err := json.Marshal(with(valid, map[string]any{"arrs_role": "national-administrator", "arrs_org": nil}))
		must(t, err)
		parts[1] = base64.RawURLEncoding.EncodeToString(c)
		return strings.Join(parts, ".")
	}

	tests := []struct {
		name    string
		token   string
		reason  string
		because string // part of the logged detail, to show which check refused
	}{
		{"expired", edKey.sign(t, with(valid, map[string]any{"exp": now.Add(-2 * time.Minute).Unix(), "iat": now.Add(-time.Hour).Unix(), "nbf": now.Add(-time.Hour).Unix()})), ReasonTokenExpired, "exp has passed"},
		{"not yet valid (nbf)", edKey.sign(t, with(valid, map[string]any{"nbf": now.Add(2 * time.Minute).Unix()})), ReasonTokenNotYetValid, "nbf"},
		{"issued in the future (iat)", edKey.sign(t, with(valid, map[string]any{"iat": now.Add(2 * time.Minute).Unix()})), ReasonTokenInvalid, "iat"},
		{"wrong issuer", edKey.sign(t, with(valid, map[string]any{"iss": "https://other.example"})), ReasonTokenInvalid, "iss"},
		{"wrong audience", edKey.sign(t, with(valid, map[string]any{"aud": []string{"other-service"}})), ReasonTokenInvalid, "aud"},
		{"no exp", edKey.sign(t, with(valid, map[string]any{"exp": nil})), ReasonTokenInvalid, "exp is missing"},
		{"alg none, empty signature", craft(t, map[string]any{"alg": "none", "kid": "rsa-1"}, valid, nil), ReasonTokenInvalid, "algorithm"},
		{"alg none without kid", craft(t, map[string]any{"alg": "none"}, valid, nil), ReasonTokenInvalid, "algorithm"},
		{"HS256 keyed with the RSA public key PEM", sign(t, pubPEM, jwa.HS256(), "rsa-1", valid), ReasonTokenInvalid, "algorithm"},
		{"HS256 keyed with the RSA public JWK", sign(t, pubJWK, jwa.HS256(), "rsa-1", valid), ReasonTokenInvalid, "algorithm"},
		{"tampered payload", tamper(edKey.sign(t, valid)), ReasonTokenInvalid, "signature does not verify"},
		{"signed by a key not in the set, same kid", impostor.sign(t, valid), ReasonTokenInvalid, "signature does not verify"},
		{"signed by a key not in the set, unknown kid", stranger.sign(t, valid), ReasonTokenInvalid, "kid is not in the key set"},
		{"no kid", sign(t, edKey.Key, jwa.EdDSA(), "", valid), ReasonTokenInvalid, "no key (kid)"},
		{"header alg ES256 naming the RSA key", sign(t, ecKey.Key, jwa.ES256(), "rsa-1", valid), ReasonTokenInvalid, "key type"},
		{"header alg differs from the key's alg", sign(t, edKey.Key, jwa.EdDSA(), "ec-1", valid), ReasonTokenInvalid, "differs from the key's"},
		{"PS256 with an RSA key in the set", sign(t, rsaKey.Key, jwa.PS256(), "rsa-1", valid), ReasonTokenInvalid, "algorithm"},
		{"development kid", sign(t, edKey.Key, jwa.EdDSA(), DevKeyIDPrefix+"x", valid), ReasonTokenInvalid, "development key"},
		{"not a JWS", "not-a-token", ReasonTokenInvalid, "compact JWS"},
		{"oversized", strings.Repeat("a", maxTokenBytes) + ".b.c", ReasonTokenInvalid, "compact JWS"},
		{"missing arrs_role", edKey.sign(t, with(valid, map[string]any{"arrs_role": nil})), ReasonClaimsInvalid, "arrs_role is missing"},
		{"unknown arrs_role", edKey.sign(t, with(valid, map[string]any{"arrs_role": "superuser"})), ReasonClaimsInvalid, "not an access role"},
		{"arrs_role not a string", edKey.sign(t, with(valid, map[string]any{"arrs_role": 7})), ReasonClaimsInvalid, "not a string"},
		{"system role", edKey.sign(t, with(valid, map[string]any{"arrs_role": "system"})), ReasonClaimsInvalid, "not an access role"},
		{"service-account role by token", edKey.sign(t, with(valid, map[string]any{"arrs_role": "service-account", "arrs_org": nil})), ReasonClaimsInvalid, "client certificates"},
		{"PCN role with a commissioner code", edKey.sign(t, with(valid, map[string]any{"arrs_org": "QNQ"})), ReasonClaimsInvalid, "PCN ODS code"},
		{"PCN role without an org", edKey.sign(t, with(valid, map[string]any{"arrs_org": nil})), ReasonClaimsInvalid, "PCN ODS code"},
		{"commissioner role with a PCN code", edKey.sign(t, with(valid, map[string]any{"arrs_role": "commissioner-approver"})), ReasonClaimsInvalid, "CCG or ICB"},
		{"training hub without an id", edKey.sign(t, with(valid, map[string]any{"arrs_role": "training-hub-officer", "arrs_org": nil})), ReasonClaimsInvalid, "Training Hub id"},
		{"practice manager for a commissioner", edKey.sign(t, with(valid, map[string]any{"arrs_role": "practice-manager", "arrs_org": "QNQ"})), ReasonClaimsInvalid, "practice ODS code"},
		{"national administrator for a PCN", edKey.sign(t, with(valid, map[string]any{"arrs_role": "national-administrator"})), ReasonClaimsInvalid, "nhs-england only"},
		{"missing sub", edKey.sign(t, with(valid, map[string]any{"sub": nil})), ReasonClaimsInvalid, "sub is missing"},
		{"sub posing as arrs itself", edKey.sign(t, with(valid, map[string]any{"sub": "system:demo"})), ReasonClaimsInvalid, "reserved"},
		{"sub posing as a service", edKey.sign(t, with(valid, map[string]any{"sub": "spiffe://arrs/service/reporting"})), ReasonClaimsInvalid, "reserved"},
		{"empty", "", ReasonCredentialsMissing, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := v.Verify(context.Background(), tt.token)
			assertReason(t, err, tt.reason, tt.token)
			if !strings.Contains(err.Error(), tt.because) {
				t.Errorf("error %q does not say %q", err, tt.because)
			}
			if !reflect.DeepEqual(id, Identity{}) {
				t.Errorf("identity %+v returned with an error", id)
			}
		})
	}
}

func TestVerifyRoleOrganisations(t *testing.T) {
	edKey := newKey(t, jwa.EdDSA(), "ed-1", false)
	v := newFileVerifier(t, JWTConfig{}, edKey)
	valid := claimsAt(time.Now())
	tests := []struct {
		role     claims.AccessRole
		org      any // nil: no arrs_org claim
		wantKind claims.OrgKind
		wantCode string
	}{
		{claims.RolePCNClinicalDirector, "U12345", claims.OrgPCN, "U12345"},
		{claims.RoleCommissionerApprover, "QNQ", claims.OrgCommissioner, "QNQ"},
		{claims.RoleCommissionerFinance, "D4U1Y", claims.OrgCommissioner, "D4U1Y"},
		{claims.RoleTrainingHubOfficer, "north-east-hub", claims.OrgTrainingHub, "north-east-hub"},
		{claims.RolePracticeManager, "K81001", claims.OrgPractice, "K81001"},
		{claims.RoleNationalAdministrator, nil, claims.OrgNational, ""},
		{claims.RoleNationalAdministrator, "nhs-england", claims.OrgNational, ""},
	}
	for _, tt := range tests {
		t.Run(string(tt.role), func(t *testing.T) {
			id, err := v.Verify(context.Background(), edKey.sign(t, with(valid, map[string]any{"arrs_role": string(tt.role), "arrs_org": tt.org})))
			if err != nil {
				t.Fatal(err)
			}
			if id.Role != tt.role || id.OrgKind != tt.wantKind || id.OrgCode != tt.wantCode {
				t.Fatalf("identity %+v, want %s %s %q", id, tt.role, tt.wantKind, tt.wantCode)
			}
		})
	}
}

func TestVerifyHonoursSkew(t *testing.T) {
	edKey := newKey(t, jwa.EdDSA(), "ed-1", false)
	now := time.Now()
	justExpired := edKey.sign(t, with(claimsAt(now), map[string]any{"exp": now.Add(-10 * time.Second).Unix(), "iat": now.Add(-time.Hour).Unix(), "nbf": now.Add(-time.Hour).Unix()}))
	almostValid := edKey.sign(t, with(claimsAt(now), map[string]any{"nbf": now.Add(10 * time.Second).Unix()}))
	tests := []struct {
		name   string
		skew   time.Duration
		token  string
		reason string // "" accepts
	}{
		{"expired 10s ago, default 30s skew", 0, justExpired, ""},
		{"expired 10s ago, 2s skew", 2 * time.Second, justExpired, ReasonTokenExpired},
		{"valid in 10s, default 30s skew", 0, almostValid, ""},
		{"valid in 10s, 2s skew", 2 * time.Second, almostValid, ReasonTokenNotYetValid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newFileVerifier(t, JWTConfig{Skew: tt.skew}, edKey)
			_, err := v.Verify(context.Background(), tt.token)
			if tt.reason == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			assertReason(t, err, tt.reason, tt.token)
		})
	}
}

func TestNewJWTVerifierRefusesBadConfiguration(t *testing.T) {
	edKey := newKey(t, jwa.EdDSA(), "ed-1", false)
	good := writeJWKS(t, edKey)
	dir := t.TempDir()
	file := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		must(t, os.WriteFile(p, data, 0o600))
		return p
	}
	privateSet := jwk.NewSet()
	must(t, privateSet.AddKey(edKey.Key))
	privateJSON, err := json.Marshal(privateSet)
	must(t, err)
	secret, err := jwk.Import([]byte("a-shared-secret-of-some-length!!"))
	must(t, err)
	must(t, secret.Set(jwk.KeyIDKey, "hmac"))
	secretSet := jwk.NewSet()
	must(t, secretSet.AddKey(secret))
	secretJSON, err := json.Marshal(secretSet)
	must(t, err)
	dev, err := LoadOrCreateDevKeys(t.TempDir())
	must(t, err)
	noKid := newKey(t, jwa.EdDSA(), "", false)

	tests := []struct {
		name string
		cfg  JWTConfig
	}{
		{"no issuer", JWTConfig{Audience: "arrs", JWKSFile: good}},
		{"no audience", JWTConfig{Issuer: testIssuer, JWKSFile: good}},
		{"no key set", JWTConfig{Issuer: testIssuer, Audience: "arrs"}},
		{"file and URL", JWTConfig{Issuer: testIssuer, Audience: "arrs", JWKSFile: good, JWKSURL: "https://idp.example/jwks"}},
		{"development issuer", JWTConfig{Issuer: DevIssuer, Audience: "arrs", JWKSFile: good}},
		{"negative skew", JWTConfig{Issuer: testIssuer, Audience: "arrs", JWKSFile: good, Skew: -time.Second}},
		{"skew over 5 minutes", JWTConfig{Issuer: testIssuer, Audience: "arrs", JWKSFile: good, Skew: 6 * time.Minute}},
		{"missing file", JWTConfig{Issuer: testIssuer, Audience: "arrs", JWKSFile: filepath.Join(dir, "absent.json")}},
		{"not a key set", JWTConfig{Issuer: testIssuer, Audience: "arrs", JWKSFile: file("junk.json", []byte("{]"))}},
		{"empty key set", JWTConfig{Issuer: testIssuer, Audience: "arrs", JWKSFile: file("empty.json", []byte(`{"keys":[]}`))}},
		{"private key in the set", JWTConfig{Issuer: testIssuer, Audience: "arrs", JWKSFile: file("private.json", privateJSON)}},
		{"symmetric key in the set", JWTConfig{Issuer: testIssuer, Audience: "arrs", JWKSFile: file("secret.json", secretJSON)}},
		{"development key in the set", JWTConfig{Issuer: testIssuer, Audience: "arrs", JWKSFile: file("dev.json", dev.JWKS())}},
		{"keys without kids", JWTConfig{Issuer: testIssuer, Audience: "arrs", JWKSFile: file("nokid.json", publicJWKS(t, noKid))}},
		{"plain http URL", JWTConfig{Issuer: testIssuer, Audience: "arrs", JWKSURL: "http://idp.example/jwks"}},
		{"relative URL", JWTConfig{Issuer: testIssuer, Audience: "arrs", JWKSURL: "/jwks"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewJWTVerifier(t.Context(), tt.cfg); err == nil {
				t.Fatal("NewJWTVerifier accepted the configuration")
			}
		})
	}
}

func TestJWKSFileReloadPicksUpRotation(t *testing.T) {
	oldKey := newKey(t, jwa.ES256(), "old", false)
	rotated := newKey(t, jwa.ES256(), "new", false)
	path := writeJWKS(t, oldKey)
	v := newFileVerifier(t, JWTConfig{JWKSFile: path, RefreshInterval: time.Second}, oldKey)
	now := time.Now()
	oldToken, newToken := oldKey.sign(t, claimsAt(now)), rotated.sign(t, claimsAt(now))
	if _, err := v.Verify(t.Context(), oldToken); err != nil {
		t.Fatal(err)
	}
	_, err := v.Verify(t.Context(), newToken)
	assertReason(t, err, ReasonTokenInvalid, newToken)

	// Replace by rename, as deployment tools do.
	tmp := path + ".tmp"
	must(t, os.WriteFile(tmp, publicJWKS(t, rotated), 0o600))
	must(t, os.Rename(tmp, path))
	eventually(t, 10*time.Second, func() bool {
		_, err := v.Verify(t.Context(), newToken)
		return err == nil
	})
	_, err = v.Verify(t.Context(), oldToken)
	assertReason(t, err, ReasonTokenInvalid, oldToken)

	// A broken file keeps the last good set.
	must(t, os.WriteFile(path, []byte("not json"), 0o600))
	if err := v.Refresh(t.Context()); err == nil {
		t.Fatal("Refresh accepted a broken file")
	}
	if _, err := v.Verify(t.Context(), newToken); err != nil {
		t.Fatalf("after a failed reload: %v", err)
	}
}

func TestJWKSURLRefreshPicksUpRotation(t *testing.T) {
	oldKey := newKey(t, jwa.RS256(), "old", true)
	rotated := newKey(t, jwa.RS256(), "new", true)
	var served atomic.Pointer[[]byte]
	set := publicJWKS(t, oldKey)
	served.Store(&set)
	var fetches atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(*served.Load())
	}))
	defer srv.Close()

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	v, err := NewJWTVerifier(ctx, JWTConfig{Issuer: testIssuer, Audience: testAudience, JWKSURL: srv.URL + "/jwks.json", RefreshInterval: time.Second, Logger: quiet})
	must(t, err)
	now := time.Now()
	oldToken, newToken := oldKey.sign(t, claimsAt(now)), rotated.sign(t, claimsAt(now))
	if _, err := v.Verify(t.Context(), oldToken); err != nil {
		t.Fatal(err)
	}
	_, err = v.Verify(t.Context(), newToken)
	assertReason(t, err, ReasonTokenInvalid, newToken)

	// The provider publishes the new key beside the old, then drops the old.
	both := publicJWKS(t, oldKey, rotated)
	served.Store(&both)
	eventually(t, 10*time.Second, func() bool {
		_, err := v.Verify(t.Context(), newToken)
		return err == nil
	})
	if _, err := v.Verify(t.Context(), oldToken); err != nil {
		t.Fatalf("old key dropped too early: %v", err)
	}
	onlyNew := publicJWKS(t, rotated)
	served.Store(&onlyNew)
	must(t, v.Refresh(t.Context()))
	_, err = v.Verify(t.Context(), oldToken)
	assertReason(t, err, ReasonTokenInvalid, oldToken)
	if fetches.Load() < 3 {
		t.Errorf("%d fetches, want at least 3", fetches.Load())
	}
}

func TestJWKSURLUnreachableFailsStart(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	if _, err := NewJWTVerifier(ctx, JWTConfig{Issuer: testIssuer, Audience: testAudience, JWKSURL: srv.URL, Logger: quiet}); err == nil {
		t.Fatal("NewJWTVerifier started without a key set")
	}
}

func eventually(t *testing.T, within time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s", within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
