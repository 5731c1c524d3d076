package auth

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"

	"arrs.nhs.uk/arrs/claims"
)

func TestAuthenticate(t *testing.T) {
	edKey := newKey(t, jwa.EdDSA(), "ed-1", false)
	verifier := newFileVerifier(t, JWTConfig{}, edKey)
	ca := newCA(t, "arrs service accounts CA")
	token := edKey.sign(t, claimsAt(time.Now()))
	expired := edKey.sign(t, with(claimsAt(time.Now()), map[string]any{
		"exp": time.Now().Add(-time.Hour).Unix(), "iat": time.Now().Add(-2 * time.Hour).Unix(), "nbf": nil}))

	tlsPeer := func(c *tls.Certificate) *peer.Peer {
		state := tls.ConnectionState{}
		if c != nil {
			state.PeerCertificates = []*x509.Certificate{c.Leaf}
			state.VerifiedChains = [][]*x509.Certificate{{c.Leaf, ca.cert}}
		}
		return &peer.Peer{Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5000}, AuthInfo: credentials.TLSInfo{State: state}}
	}
	reporting := ca.issue(t, false, "reporting", ServiceIDPrefix+"reporting")
	unknown := ca.issue(t, false, "billing", ServiceIDPrefix+"billing")
	// The gateway's connection: in memory, no transport security at all.
	plainPeer := &peer.Peer{Addr: &net.UnixAddr{Name: "bufconn", Net: "unix"}}

	tests := []struct {
		name          string
		authorization []string
		peer          *peer.Peer
		noVerifier    bool   // an Authenticator configured without bearer tokens
		wantMethod    string // "" expects an error
		wantReason    string
	}{
		{name: "bearer token", authorization: []string{"Bearer " + token}, peer: plainPeer, wantMethod: MethodJWT},
		{name: "scheme in lower case", authorization: []string{"bearer " + token}, wantMethod: MethodJWT},
		{name: "expired token", authorization: []string{"Bearer " + expired}, wantReason: ReasonTokenExpired},
		{name: "basic credentials", authorization: []string{"Basic dXNlcjpwYXNz"}, wantReason: ReasonTokenInvalid},
		{name: "token without scheme", authorization: []string{token}, wantReason: ReasonTokenInvalid},
		{name: "scheme without token", authorization: []string{"Bearer "}, wantReason: ReasonTokenInvalid},
		{name: "two authorization values", authorization: []string{"Bearer " + token, "Bearer " + token}, wantReason: ReasonTokenInvalid},
		{name: "bad token beside a good certificate", authorization: []string{"Bearer " + expired}, peer: tlsPeer(&reporting), wantReason: ReasonTokenExpired},
		{name: "good token beside a certificate", authorization: []string{"Bearer " + token}, peer: tlsPeer(&reporting), wantMethod: MethodJWT},
		{name: "no bearer tokens configured", authorization: []string{"Bearer " + token}, noVerifier: true, wantReason: ReasonTokenInvalid},
		{name: "configured service account", peer: tlsPeer(&reporting), wantMethod: MethodMTLS},
		{name: "unconfigured service account", peer: tlsPeer(&unknown), wantReason: ReasonServiceAccountUnknown},
		{name: "TLS without a client certificate", peer: tlsPeer(nil), wantReason: ReasonCredentialsMissing},
		{name: "gateway connection without a token", peer: plainPeer, wantReason: ReasonCredentialsMissing},
		{name: "nothing at all", wantReason: ReasonCredentialsMissing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			if tt.authorization != nil {
				md := metadata.MD{}
				md.Append("authorization", tt.authorization...)
				ctx = metadata.NewIncomingContext(ctx, md)
			}
			if tt.peer != nil {
				ctx = peer.NewContext(ctx, tt.peer)
			}
			v := verifier
			if tt.noVerifier {
				v = nil
			}
			id, err := NewAuthenticator(v, testAccounts).Authenticate(ctx)
			if tt.wantMethod == "" {
				assertReason(t, err, tt.wantReason, token)
				assertNoToken(t, err.Error(), expired)
				return
			}
			must(t, err)
			if id.Method != tt.wantMethod {
				t.Fatalf("identity %+v, want method %s", id, tt.wantMethod)
			}
		})
	}
}

func TestAuthenticatorKeepsItsOwnAccounts(t *testing.T) {
	ca := newCA(t, "arrs service accounts CA")
	c := ca.issue(t, false, "x", ServiceIDPrefix+"reporting")
	accounts := map[string]ServiceAccount{"reporting": {Name: "reporting", Permissions: []string{"posts.read"}}}
	a := NewAuthenticator(nil, accounts)
	delete(accounts, "reporting")
	ctx := peer.NewContext(context.Background(), &peer.Peer{
		Addr: &net.TCPAddr{},
		AuthInfo: credentials.TLSInfo{State: tls.ConnectionState{
			PeerCertificates: []*x509.Certificate{c.Leaf}, VerifiedChains: [][]*x509.Certificate{{c.Leaf, ca.cert}},
		}},
	})
	id, err := a.Authenticate(ctx)
	must(t, err)
	if id.Role != claims.RoleServiceAccount {
		t.Fatalf("identity %+v", id)
	}
}

func TestReason(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{nil, ""},
		{ErrCredentialsMissing, ReasonCredentialsMissing},
		{tokenInvalid("anything"), ReasonTokenInvalid},
		{errors.Join(errors.New("context"), failure(ReasonTokenExpired, "exp has passed")), ReasonTokenExpired},
		{errors.New("not ours"), "UNAUTHENTICATED"},
	}
	for _, tt := range tests {
		if got := Reason(tt.err); got != tt.want {
			t.Errorf("Reason(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
	if !errors.Is(failure(ReasonTokenExpired, "exp has passed"), ErrTokenExpired) {
		t.Error("an expired-token error does not match ErrTokenExpired")
	}
	if errors.Is(failure(ReasonTokenExpired, "exp has passed"), ErrTokenInvalid) {
		t.Error("an expired-token error matches ErrTokenInvalid")
	}
}
