package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"arrs.nhs.uk/arrs/claims"
	"arrs.nhs.uk/arrs/claims/demo"
	arrsv1 "arrs.nhs.uk/arrs/gen/arrs/v1"
	"arrs.nhs.uk/arrs/internal/pgtest"
	"arrs.nhs.uk/arrs/server/auth"
)

// mtlsCA is a certificate authority made for one test.
type mtlsCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newMTLSCA(t *testing.T, name string) mtlsCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          mtlsSerial(t),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return mtlsCA{cert: cert, key: key}
}

func mtlsSerial(t *testing.T) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// issue signs a leaf certificate: a server certificate for 127.0.0.1 and
// localhost, or a client certificate naming uri as its URI SAN.
func (ca mtlsCA) issue(t *testing.T, cn string, server bool, uri string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: mtlsSerial(t),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
		tmpl.DNSNames = []string{"localhost"}
	} else {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	if uri != "" {
		u, err := url.Parse(uri)
		if err != nil {
			t.Fatal(err)
		}
		tmpl.URIs = []*url.URL{u}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

// writeMTLSPEM writes blocks of one type to dir/name and returns the path.
func writeMTLSPEM(t *testing.T, dir, name, typ string, ders ...[]byte) string {
	t.Helper()
	var out []byte
	for _, der := range ders {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})...)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func writeMTLSKey(t *testing.T, dir, name string, cert tls.Certificate) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	return writeMTLSPEM(t, dir, name, "PRIVATE KEY", der)
}

// mtlsClient dials the server's gRPC listener over TLS, trusting ca, with
// the given client certificates (none for a token-only caller).
func mtlsClient(t *testing.T, addr string, ca mtlsCA, certs ...tls.Certificate) *grpc.ClientConn {
	t.Helper()
	return mtlsDial(t, addr, &tls.Config{RootCAs: mtlsPool(ca), Certificates: certs, MinVersion: tls.VersionTLS12})
}

// forceClientCert makes a client present cert whatever CAs the server asks
// for: crypto/tls otherwise quietly withholds a certificate whose issuer is
// not among the server's acceptable CAs, and the test would only show that
// a connection without a certificate is refused.
func forceClientCert(cfg *tls.Config, cert tls.Certificate) *tls.Config {
	cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil }
	return cfg
}

func mtlsDial(t *testing.T, addr string, cfg *tls.Config) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// TestMTLSEndToEnd runs the real TLS listener configured by
// auth.ServerTLSConfig and the real Authenticator: a service account's
// client certificate, a certificate from a CA the server does not trust,
// TLS callers with and without bearer tokens, and the REST gateway, whose
// in-memory connection must never pass for a service account.
func TestMTLSEndToEnd(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca := newMTLSCA(t, "arrs test services CA")
	serverCert := ca.issue(t, "arrs", true, "")
	reportingCert := ca.issue(t, "reporting", false, auth.ServiceIDPrefix+"reporting")
	strangerCert := ca.issue(t, "stranger", false, auth.ServiceIDPrefix+"stranger")
	otherCA := newMTLSCA(t, "some other CA")
	impostorCert := otherCA.issue(t, "reporting", false, auth.ServiceIDPrefix+"reporting")

	cfg, err := auth.ServerTLSConfig(
		writeMTLSPEM(t, dir, "server.pem", "CERTIFICATE", serverCert.Certificate[0]),
		writeMTLSKey(t, dir, "server-key.pem", serverCert),
		writeMTLSPEM(t, dir, "client-ca.pem", "CERTIFICATE", ca.cert.Raw),
	)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ClientAuth != tls.VerifyClientCertIfGiven {
		t.Fatalf("ClientAuth = %v, want VerifyClientCertIfGiven", cfg.ClientAuth)
	}
	// The reporting service loads its key pair from PEM files, as a real
	// client would.
	reportingCert, err = tls.LoadX509KeyPair(
		writeMTLSPEM(t, dir, "reporting.pem", "CERTIFICATE", reportingCert.Certificate[0]),
		writeMTLSKey(t, dir, "reporting-key.pem", reportingCert))
	if err != nil {
		t.Fatal(err)
	}

	dev, err := auth.LoadOrCreateDevKeys(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	db := pgtest.NewDB(t)
	if err := demo.Load(t.Context(), claims.NewStore(db)); err != nil {
		t.Fatal(err)
	}
	accounts := map[string]auth.ServiceAccount{
		"reporting": {Name: "reporting", Permissions: []string{"posts.read", "pcns.read"}},
	}
	s, err := New(Config{
		GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", MetricsAddr: "127.0.0.1:0",
		ShutdownTimeout: 5 * time.Second,
		TLS:             cfg,
		Authenticator:   auth.NewAuthenticator(dev.Verifier(), accounts),
	}, claims.NewStore(db), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})

	token, err := dev.Mint("cd@riverside", claims.RolePCNClinicalDirector, "U12345", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	bearer := func(ctx context.Context, token string) context.Context {
		return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
	}
	// callCtx bounds each call, so a broken handshake fails the test rather
	// than hanging it.
	callCtx := func(t *testing.T) context.Context {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		t.Cleanup(cancel)
		return ctx
	}

	t.Run("service account reads what it is granted", func(t *testing.T) {
		conn := mtlsClient(t, s.GRPCAddr(), ca, reportingCert)
		posts, err := arrsv1.NewWorkforceServiceClient(conn).ListPosts(callCtx(t), &arrsv1.ListPostsRequest{Parent: "pcns/-"})
		if err != nil {
			t.Fatalf("ListPosts with the client certificate and no token: %v", err)
		}
		if len(posts.GetPosts()) == 0 {
			t.Error("ListPosts(pcns/-) as the national reporting account returned no posts")
		}
		pcn, err := arrsv1.NewOrganisationServiceClient(conn).GetPcn(callCtx(t), &arrsv1.GetPcnRequest{Name: "pcns/U12345"})
		if err != nil || pcn.GetDisplayName() == "" {
			t.Fatalf("GetPcn with the client certificate and no token: %v, %v", pcn, err)
		}
	})

	t.Run("service account is refused what it is not granted", func(t *testing.T) {
		conn := mtlsClient(t, s.GRPCAddr(), ca, reportingCert)
		_, err := arrsv1.NewFundingServiceClient(conn).GetEntitlement(callCtx(t),
			&arrsv1.GetEntitlementRequest{Name: "pcns/U12345/entitlements/2025-26"})
		if status.Code(err) != codes.PermissionDenied {
			t.Errorf("GetEntitlement: %v, want PERMISSION_DENIED", err)
		}
		_, err = arrsv1.NewWorkforceServiceClient(conn).CreatePost(callCtx(t), &arrsv1.CreatePostRequest{
			Parent: "pcns/U12345",
			Post:   &arrsv1.Post{Role: "roles/care-coordinator", Wte: "1", StartDate: "2026-01-05"},
		})
		if status.Code(err) != codes.PermissionDenied {
			t.Errorf("CreatePost: %v, want PERMISSION_DENIED", err)
		}
	})

	t.Run("a bearer token decides over the client certificate", func(t *testing.T) {
		conn := mtlsClient(t, s.GRPCAddr(), ca, reportingCert)
		funding := arrsv1.NewFundingServiceClient(conn)
		req := &arrsv1.GetEntitlementRequest{Name: "pcns/U12345/entitlements/2025-26"}
		if _, err := funding.GetEntitlement(bearer(callCtx(t), token), req); err != nil {
			t.Errorf("GetEntitlement as the clinical director, over the service's connection: %v", err)
		}
		if _, err := funding.GetEntitlement(bearer(callCtx(t), token[:len(token)-4]+"AAAA"), req); status.Code(err) != codes.Unauthenticated {
			t.Errorf("a tampered token with a good certificate: %v, want UNAUTHENTICATED", err)
		}
	})

	t.Run("certificate from another CA is refused", func(t *testing.T) {
		// Presented as crypto/tls would: withheld, since the server does
		// not ask for this issuer; the caller is then merely anonymous.
		conn := mtlsClient(t, s.GRPCAddr(), ca, impostorCert)
		pcns := arrsv1.NewOrganisationServiceClient(conn)
		req := &arrsv1.GetPcnRequest{Name: "pcns/U12345"}
		if pcn, err := pcns.GetPcn(callCtx(t), req); err == nil {
			t.Fatalf("GetPcn offering a certificate from an untrusted CA succeeded: %v", pcn)
		}
		// Presented regardless: the handshake itself must fail, so the call
		// fails before any policy decision.
		conn = mtlsDial(t, s.GRPCAddr(), forceClientCert(&tls.Config{RootCAs: mtlsPool(ca), MinVersion: tls.VersionTLS12}, impostorCert))
		pcn, err := arrsv1.NewOrganisationServiceClient(conn).GetPcn(callCtx(t), req)
		if err == nil {
			t.Fatalf("GetPcn presenting a certificate from an untrusted CA succeeded: %v", pcn)
		}
		if code := status.Code(err); code != codes.Unavailable {
			t.Errorf("presenting a certificate from an untrusted CA: %v, want the handshake to fail (UNAVAILABLE)", err)
		}
		// The same at the TLS layer, for TLS 1.2 and 1.3.
		for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
			mtlsHandshakeRefused(t, s.GRPCAddr(), forceClientCert(&tls.Config{
				RootCAs: mtlsPool(ca), NextProtos: []string{"h2"}, MinVersion: version, MaxVersion: version,
			}, impostorCert))
		}
	})

	t.Run("certificate for an unconfigured account is unauthenticated", func(t *testing.T) {
		conn := mtlsClient(t, s.GRPCAddr(), ca, strangerCert)
		_, err := arrsv1.NewOrganisationServiceClient(conn).GetPcn(callCtx(t), &arrsv1.GetPcnRequest{Name: "pcns/U12345"})
		if status.Code(err) != codes.Unauthenticated {
			t.Errorf("GetPcn as an unconfigured service: %v, want UNAUTHENTICATED", err)
		}
	})

	t.Run("TLS without a client certificate needs a token", func(t *testing.T) {
		conn := mtlsClient(t, s.GRPCAddr(), ca)
		pcns := arrsv1.NewOrganisationServiceClient(conn)
		req := &arrsv1.GetPcnRequest{Name: "pcns/U12345"}
		if _, err := pcns.GetPcn(callCtx(t), req); status.Code(err) != codes.Unauthenticated {
			t.Errorf("no certificate, no token: %v, want UNAUTHENTICATED", err)
		}
		if p, err := pcns.GetPcn(bearer(callCtx(t), token), req); err != nil || p.GetDisplayName() == "" {
			t.Errorf("no certificate, a dev token: %v, %v", p, err)
		}
	})

	t.Run("REST gateway is not a service account", func(t *testing.T) {
		get := func(t *testing.T, token string) (int, string) {
			t.Helper()
			req, err := http.NewRequestWithContext(callCtx(t), http.MethodGet, "http://"+s.HTTPAddr()+"/v1/pcns/U12345", nil)
			if err != nil {
				t.Fatal(err)
			}
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			return resp.StatusCode, string(body)
		}
		if code, body := get(t, token); code != http.StatusOK {
			t.Errorf("REST with a bearer token: %d %s, want 200", code, body)
		}
		if code, body := get(t, ""); code != http.StatusUnauthorized {
			t.Errorf("REST with no Authorization: %d %s, want 401", code, body)
		}
	})
}

// mtlsHandshakeRefused checks that the server refuses a TLS connection made
// with cfg. In TLS 1.3 the server's verdict on the client's certificate
// arrives after the client's side of the handshake is done, so the first
// read must fail too; a gRPC server that accepted the connection would send
// its HTTP/2 settings.
func mtlsHandshakeRefused(t *testing.T, addr string, cfg *tls.Config) {
	t.Helper()
	raw, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		return
	}
	defer raw.Close()
	_ = raw.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := raw.Read(make([]byte, 1)); err == nil {
		t.Errorf("%s: the server accepted a certificate from an untrusted CA", tls.VersionName(cfg.MaxVersion))
	}
}

func mtlsPool(ca mtlsCA) *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	return pool
}
