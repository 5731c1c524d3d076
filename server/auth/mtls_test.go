package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"arrs.nhs.uk/arrs/claims"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newCA(t *testing.T, name string) testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	must(t, err)
	cert, err := x509.ParseCertificate(der)
	must(t, err)
	return testCA{cert: cert, key: key}
}

// issue returns a certificate signed by ca. A server certificate is for
// 127.0.0.1; a client one carries cn and the URI SANs uris.
func (ca testCA) issue(t *testing.T, server bool, cn string, uris ...string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	must(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	}
	for _, u := range uris {
		parsed, err := url.Parse(u)
		must(t, err)
		tmpl.URIs = append(tmpl.URIs, parsed)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	must(t, err)
	leaf, err := x509.ParseCertificate(der)
	must(t, err)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

func (ca testCA) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// writeServerFiles writes cert's PEM files and ca's certificate, and
// returns their paths for ServerTLSConfig.
func writeServerFiles(t *testing.T, cert tls.Certificate, ca testCA) (certFile, keyFile, caFile string) {
	t.Helper()
	dir := t.TempDir()
	keyDER, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	must(t, err)
	certFile, keyFile, caFile = filepath.Join(dir, "server.pem"), filepath.Join(dir, "server-key.pem"), filepath.Join(dir, "ca.pem")
	must(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), 0o600))
	must(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600))
	must(t, os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.cert.Raw}), 0o600))
	return certFile, keyFile, caFile
}

var testAccounts = map[string]ServiceAccount{
	"reporting": {Name: "reporting", Permissions: []string{"pcns.read", "posts.read"}},
}

// TestAuthenticateOverTLS runs real handshakes against a gRPC server whose
// interceptor calls Authenticate, as arrs's does, and reports the outcome
// in the status.
func TestAuthenticateOverTLS(t *testing.T) {
	ca := newCA(t, "arrs service accounts CA")
	otherCA := newCA(t, "some other CA")
	serverCert := ca.issue(t, true, "arrs")
	certFile, keyFile, caFile := writeServerFiles(t, serverCert, ca)
	serverTLS, err := ServerTLSConfig(certFile, keyFile, caFile)
	must(t, err)

	edKey := newKey(t, jwa.EdDSA(), "ed-1", false)
	authn := NewAuthenticator(newFileVerifier(t, JWTConfig{}, edKey), testAccounts)
	identities := make(chan Identity, 1)
	srv := grpc.NewServer(grpc.Creds(credentials.NewTLS(serverTLS)),
		grpc.UnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
			id, err := authn.Authenticate(ctx)
			if err != nil {
				return nil, status.Error(codes.Unauthenticated, Reason(err))
			}
			identities <- id
			return handler(ctx, req)
		}))
	healthpb.RegisterHealthServer(srv, health.NewServer())
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)

	token := edKey.sign(t, claimsAt(time.Now()))
	tests := []struct {
		name       string
		clientCert *tls.Certificate
		force      bool // send clientCert even if the server asks for another CA's
		bearer     string
		wantCode   codes.Code
		wantReason string
		want       Identity
	}{
		{
			name:       "client certificate of a configured account",
			clientCert: new(ca.issue(t, false, "reporting", ServiceIDPrefix+"reporting")),
			wantCode:   codes.OK,
			want: Identity{Subject: ServiceIDPrefix + "reporting", Role: claims.RoleServiceAccount, OrgKind: claims.OrgNational,
				Permissions: []string{"pcns.read", "posts.read"}, Method: MethodMTLS},
		},
		{
			name:       "client certificate of an account not configured",
			clientCert: new(ca.issue(t, false, "billing", ServiceIDPrefix+"billing")),
			wantCode:   codes.Unauthenticated, wantReason: ReasonServiceAccountUnknown,
		},
		{
			// The account is named by the SPIFFE ID only; a CN naming a
			// configured account is not enough.
			name:       "client certificate whose CN alone names an account",
			clientCert: new(ca.issue(t, false, "reporting")),
			wantCode:   codes.Unauthenticated, wantReason: ReasonServiceAccountUnknown,
		},
		{
			// The gateway's case: no client certificate, a forwarded token.
			name:     "bearer token, no client certificate",
			bearer:   token,
			wantCode: codes.OK,
			want:     Identity{Subject: "user-123", Role: claims.RolePCNManager, OrgKind: claims.OrgPCN, OrgCode: "U12345", Method: MethodJWT},
		},
		{
			name:     "no credentials",
			wantCode: codes.Unauthenticated, wantReason: ReasonCredentialsMissing,
		},
		{
			// A certificate from another CA never reaches Authenticate: the
			// handshake fails, and the call with it.
			name:       "client certificate from another CA, sent regardless",
			clientCert: new(otherCA.issue(t, false, "reporting", ServiceIDPrefix+"reporting")),
			force:      true,
			wantCode:   codes.Unavailable,
		},
		{
			// A Go client sends only a certificate from a CA the server
			// names, so this one stays at home and the call has no
			// credentials.
			name:       "client certificate from another CA, withheld by the client",
			clientCert: new(otherCA.issue(t, false, "reporting", ServiceIDPrefix+"reporting")),
			wantCode:   codes.Unauthenticated, wantReason: ReasonCredentialsMissing,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clientTLS := &tls.Config{RootCAs: ca.pool(), MinVersion: tls.VersionTLS12}
			switch {
			case tt.force:
				clientTLS.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return tt.clientCert, nil }
			case tt.clientCert != nil:
				clientTLS.Certificates = []tls.Certificate{*tt.clientCert}
			}
			conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(credentials.NewTLS(clientTLS)))
			must(t, err)
			defer conn.Close()
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			if tt.bearer != "" {
				ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tt.bearer)
			}
			_, err = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
			if got := status.Code(err); got != tt.wantCode {
				t.Fatalf("code %s (%v), want %s", got, err, tt.wantCode)
			}
			if tt.wantCode == codes.Unauthenticated {
				if got := status.Convert(err).Message(); got != tt.wantReason {
					t.Fatalf("reason %q, want %q", got, tt.wantReason)
				}
			}
			if tt.wantCode != codes.OK {
				select {
				case id := <-identities:
					t.Fatalf("authenticated as %+v", id)
				default:
				}
				return
			}
			if id := <-identities; !reflect.DeepEqual(id, tt.want) {
				t.Fatalf("identity %+v, want %+v", id, tt.want)
			}
		})
	}
}

// TestHandshakeRejectsCertificateFromAnotherCA shows where the other CA's
// certificate is stopped: crypto/tls refuses it while verifying the chain.
func TestHandshakeRejectsCertificateFromAnotherCA(t *testing.T) {
	ca := newCA(t, "arrs service accounts CA")
	otherCA := newCA(t, "some other CA")
	certFile, keyFile, caFile := writeServerFiles(t, ca.issue(t, true, "arrs"), ca)
	serverTLS, err := ServerTLSConfig(certFile, keyFile, caFile)
	must(t, err)
	lis, err := tls.Listen("tcp", "127.0.0.1:0", serverTLS)
	must(t, err)
	defer lis.Close()

	handshake := func(client tls.Certificate) (tls.ConnectionState, error) {
		result := make(chan error, 1)
		states := make(chan tls.ConnectionState, 1)
		go func() {
			conn, err := lis.Accept()
			if err != nil {
				result <- err
				return
			}
			defer conn.Close()
			tc := conn.(*tls.Conn)
			err = tc.HandshakeContext(t.Context())
			states <- tc.ConnectionState()
			result <- err
		}()
		// GetClientCertificate sends the certificate whatever CAs the server
		// names, as an attacker's client would; a plain Go client would
		// withhold another CA's certificate.
		conn, err := tls.Dial("tcp", lis.Addr().String(), &tls.Config{RootCAs: ca.pool(),
			GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &client, nil }})
		if err == nil {
			// Under TLS 1.3 the client learns of the refusal on its first read.
			_, _ = conn.Read(make([]byte, 1))
			conn.Close()
		}
		err = <-result
		return <-states, err
	}

	state, err := handshake(ca.issue(t, false, "reporting", ServiceIDPrefix+"reporting"))
	must(t, err)
	if id, ok := IdentityFromTLS(state, testAccounts); !ok || id.Subject != ServiceIDPrefix+"reporting" {
		t.Fatalf("IdentityFromTLS = %+v, %v after a good handshake", id, ok)
	}

	_, err = handshake(otherCA.issue(t, false, "reporting", ServiceIDPrefix+"reporting"))
	var verr *tls.CertificateVerificationError
	if !errors.As(err, &verr) {
		t.Fatalf("handshake error %v, want a certificate verification error", err)
	}
}

func TestIdentityFromTLS(t *testing.T) {
	ca := newCA(t, "arrs service accounts CA")
	chain := func(c tls.Certificate) [][]*x509.Certificate { return [][]*x509.Certificate{{c.Leaf, ca.cert}} }
	good := ca.issue(t, false, "x", ServiceIDPrefix+"reporting")
	tests := []struct {
		name  string
		state tls.ConnectionState
		ok    bool
	}{
		{"verified, configured", tls.ConnectionState{PeerCertificates: []*x509.Certificate{good.Leaf}, VerifiedChains: chain(good)}, true},
		{"presented but not verified", tls.ConnectionState{PeerCertificates: []*x509.Certificate{good.Leaf}}, false},
		{"no certificate", tls.ConnectionState{}, false},
		{"two service ids", func() tls.ConnectionState {
			c := ca.issue(t, false, "x", ServiceIDPrefix+"reporting", ServiceIDPrefix+"billing")
			return tls.ConnectionState{PeerCertificates: []*x509.Certificate{c.Leaf}, VerifiedChains: chain(c)}
		}(), false},
		{"service id with a path below the name", func() tls.ConnectionState {
			c := ca.issue(t, false, "x", ServiceIDPrefix+"reporting/extra")
			return tls.ConnectionState{PeerCertificates: []*x509.Certificate{c.Leaf}, VerifiedChains: chain(c)}
		}(), false},
		{"other trust domain", func() tls.ConnectionState {
			c := ca.issue(t, false, "x", "spiffe://elsewhere/service/reporting")
			return tls.ConnectionState{PeerCertificates: []*x509.Certificate{c.Leaf}, VerifiedChains: chain(c)}
		}(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, ok := IdentityFromTLS(tt.state, testAccounts); ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
		})
	}

	// The identity's permissions are a copy of the configuration's.
	id, _ := IdentityFromTLS(tests[0].state, testAccounts)
	id.Permissions[0] = "organisations.write"
	if testAccounts["reporting"].Permissions[0] != "pcns.read" {
		t.Fatal("changing an identity's permissions changed the configuration")
	}
}

func TestLoadServiceAccounts(t *testing.T) {
	tests := []struct {
		name string
		json string
		want map[string]ServiceAccount // nil: an error
	}{
		{"accounts", `{"reporting": {"permissions": ["posts.read", "pcns.read", "posts.read"]}, "audit-export": {"permissions": []}}`,
			map[string]ServiceAccount{
				"reporting":    {Name: "reporting", Permissions: []string{"pcns.read", "posts.read"}},
				"audit-export": {Name: "audit-export", Permissions: []string{}},
			}},
		{"empty", `{}`, map[string]ServiceAccount{}},
		{"unknown field", `{"reporting": {"permissions": ["posts.read"], "role": "national-administrator"}}`, nil},
		{"misspelt field", `{"reporting": {"permission": ["posts.read"]}}`, nil},
		{"bad account name", `{"Reporting Service": {"permissions": []}}`, nil},
		{"bad permission", `{"reporting": {"permissions": ["*"]}}`, nil},
		{"duplicate account", `{"reporting": {"permissions": ["posts.read"]}, "reporting": {"permissions": ["funding.write"]}}`, nil},
		{"not an object", `["reporting"]`, nil},
		{"trailing data", `{} {}`, nil},
		{"truncated", `{"reporting": {"permissions": [`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "accounts.json")
			must(t, os.WriteFile(path, []byte(tt.json), 0o600))
			got, err := LoadServiceAccounts(path)
			if tt.want == nil {
				if err == nil {
					t.Fatalf("loaded %+v", got)
				}
				return
			}
			must(t, err)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	if _, err := LoadServiceAccounts(filepath.Join(t.TempDir(), "absent.json")); err == nil {
		t.Fatal("loaded a missing file")
	}
}

func TestServerTLSConfig(t *testing.T) {
	ca := newCA(t, "arrs service accounts CA")
	certFile, keyFile, caFile := writeServerFiles(t, ca.issue(t, true, "arrs"), ca)

	cfg, err := ServerTLSConfig(certFile, keyFile, caFile)
	must(t, err)
	if cfg.ClientAuth != tls.VerifyClientCertIfGiven || cfg.ClientCAs == nil || cfg.MinVersion != tls.VersionTLS12 {
		t.Fatalf("config %+v", cfg)
	}
	cfg, err = ServerTLSConfig(certFile, keyFile, "")
	must(t, err)
	if cfg.ClientAuth != tls.NoClientCert || cfg.ClientCAs != nil {
		t.Fatal("client certificates requested without a client CA")
	}
	notPEM := filepath.Join(t.TempDir(), "ca.pem")
	must(t, os.WriteFile(notPEM, []byte("not a certificate"), 0o600))
	if _, err := ServerTLSConfig(certFile, keyFile, notPEM); err == nil {
		t.Fatal("accepted a client CA file with no certificate")
	}
	if _, err := ServerTLSConfig(certFile, caFile, caFile); err == nil {
		t.Fatal("accepted a certificate file as the key")
	}
}
