package server

import (
	"net/http"
	"net/netip"
	"slices"
	"testing"

	"google.golang.org/grpc/metadata"

	arrsv1 "arrs.nhs.uk/arrs/gen/arrs/v1"
)

func mustProxies(t *testing.T, list string) proxies {
	t.Helper()
	p, err := ParseTrustedProxies(list)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestParseTrustedProxies(t *testing.T) {
	got := mustProxies(t, " 10.0.0.0/8, 192.0.2.7 ,2001:db8::/32,::ffff:198.51.100.1, 172.16.5.9/12,")
	want := []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("192.0.2.7/32"),
		netip.MustParsePrefix("2001:db8::/32"),
		netip.MustParsePrefix("198.51.100.1/32"), // a mapped address is its IPv4 self
		netip.MustParsePrefix("172.16.0.0/12"),   // masked
	}
	if !slices.Equal(got, want) {
		t.Errorf("ParseTrustedProxies = %v, want %v", got, want)
	}
	for _, bad := range []string{"10.0.0.0/33", "proxy.example", "10.0.0.1:80", "::ffff:10.0.0.0/104"} {
		if p, err := ParseTrustedProxies(bad); err == nil {
			t.Errorf("ParseTrustedProxies(%q) = %v, want an error", bad, p)
		}
	}
	if p, err := ParseTrustedProxies(""); err != nil || p != nil {
		t.Errorf("ParseTrustedProxies(\"\") = %v, %v; want none", p, err)
	}
}

func TestClientAddrBelievesForwardedForOnlyFromTrustedProxies(t *testing.T) {
	lb := mustProxies(t, "10.0.0.0/8")
	tests := []struct {
		name    string
		trusted proxies
		peer    string
		xff     []string
		want    string
	}{
		{"no proxies trusted: the peer", nil, "203.0.113.5", []string{"198.51.100.1"}, "203.0.113.5"},
		{"an untrusted peer's header is ignored", lb, "203.0.113.5", []string{"198.51.100.1"}, "203.0.113.5"},
		{"a trusted proxy names the client", lb, "10.0.0.2", []string{"198.51.100.1"}, "198.51.100.1"},
		{"the client's own entries before it are not believed", lb, "10.0.0.2", []string{"1.2.3.4, 198.51.100.1"}, "198.51.100.1"},
		{"a chain of trusted proxies is walked", lb, "10.0.0.2", []string{"198.51.100.1, 10.9.9.9", "10.0.0.3"}, "198.51.100.1"},
		{"every hop trusted: the leftmost", lb, "10.0.0.2", []string{"10.1.1.1, 10.0.0.3"}, "10.1.1.1"},
		{"a malformed hop ends the walk", lb, "10.0.0.2", []string{"198.51.100.1, junk, 10.0.0.3"}, "10.0.0.3"},
		{"no header: the proxy itself", lb, "10.0.0.2", nil, "10.0.0.2"},
		{"ports and brackets are read", lb, "10.0.0.2", []string{"[2001:db8::9]:443"}, "2001:db8::9"},
		{"IPv4-mapped peers are IPv4", lb, "::ffff:10.0.0.2", []string{"198.51.100.1:5678"}, "198.51.100.1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.trusted.clientAddr(netip.MustParseAddr(tc.peer), tc.xff)
			if got.String() != tc.want {
				t.Errorf("clientAddr(%s, %q) = %s, want %s", tc.peer, tc.xff, got, tc.want)
			}
		})
	}
}

// The call log line names the client and the caller: over REST from
// X-Forwarded-For when the HTTP peer (here 127.0.0.1) is a trusted proxy,
// else the peer; over gRPC likewise from x-forwarded-for metadata. The
// gateway's own client address header is believed only from the gateway.
func TestCallLogNamesTheClientAndTheCaller(t *testing.T) {
	t.Parallel()
	trusting := startConfigured(t, Config{TrustedProxies: mustProxies(t, "127.0.0.1, 10.0.0.0/8")})
	distrusting := startConfigured(t, Config{TrustedProxies: mustProxies(t, "10.0.0.0/8")})

	rest := func(t *testing.T, c configured, id string, header http.Header) map[string]any {
		t.Helper()
		header.Set("Authorization", "Bearer hub")
		header.Set("X-Request-Id", id)
		if resp, body := get(t, "http://"+c.HTTPAddr()+"/v1/commissioners", header); resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /v1/commissioners = %d %s", resp.StatusCode, body)
		}
		return c.callLine(t, id)
	}
	grpcCall := func(t *testing.T, c configured, id string, kv ...string) map[string]any {
		t.Helper()
		ctx := metadata.AppendToOutgoingContext(t.Context(), append([]string{"authorization", "Bearer hub", requestIDHeader, id}, kv...)...)
		if _, err := arrsv1.NewOrganisationServiceClient(c.conn).ListCommissioners(ctx, &arrsv1.ListCommissionersRequest{}); err != nil {
			t.Fatal(err)
		}
		return c.callLine(t, id)
	}
	tests := []struct {
		name   string
		line   func(t *testing.T) map[string]any
		via    string
		client string
	}{
		{"REST through a trusted proxy", func(t *testing.T) map[string]any {
			return rest(t, trusting, "rest-trusted", http.Header{"X-Forwarded-For": {"203.0.113.9, 10.1.2.3"}})
		}, viaREST, "203.0.113.9"},
		{"REST through an untrusted proxy", func(t *testing.T) map[string]any {
			return rest(t, distrusting, "rest-untrusted", http.Header{"X-Forwarded-For": {"203.0.113.9"}})
		}, viaREST, "127.0.0.1"},
		{"REST with no proxy", func(t *testing.T) map[string]any {
			return rest(t, trusting, "rest-direct", http.Header{})
		}, viaREST, "127.0.0.1"},
		{"REST smuggling the gateway's header", func(t *testing.T) map[string]any {
			return rest(t, distrusting, "rest-smuggled", http.Header{"Grpc-Metadata-X-Arrs-Client-Addr": {"198.51.100.66"}})
		}, viaREST, "127.0.0.1"},
		{"gRPC through a trusted proxy", func(t *testing.T) map[string]any {
			return grpcCall(t, trusting, "grpc-trusted", "x-forwarded-for", "203.0.113.9")
		}, viaGRPC, "203.0.113.9"},
		{"gRPC through an untrusted proxy", func(t *testing.T) map[string]any {
			return grpcCall(t, distrusting, "grpc-untrusted", "x-forwarded-for", "203.0.113.9")
		}, viaGRPC, "127.0.0.1"},
		{"gRPC spoofing the gateway's header", func(t *testing.T) map[string]any {
			return grpcCall(t, trusting, "grpc-spoofed", clientAddrHeader, "198.51.100.66")
		}, viaGRPC, "127.0.0.1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			line := tc.line(t)
			if line["via"] != tc.via || line["client"] != tc.client {
				t.Errorf("log line via %v client %v, want via %s client %s: %v", line["via"], line["client"], tc.via, tc.client, line)
			}
			if line["subject"] != "h1" || line["role"] != "training-hub-officer" || line["org"] != "trainingHubs/frimley" {
				t.Errorf("log line caller = %v, %v, %v; want h1, training-hub-officer, trainingHubs/frimley", line["subject"], line["role"], line["org"])
			}
		})
	}

	// An unauthenticated call names no caller.
	ctx := metadata.AppendToOutgoingContext(t.Context(), requestIDHeader, "anonymous")
	if _, err := arrsv1.NewOrganisationServiceClient(trusting.conn).ListCommissioners(ctx, &arrsv1.ListCommissionersRequest{}); err == nil {
		t.Fatal("ListCommissioners without credentials succeeded")
	}
	if line := trusting.callLine(t, "anonymous"); line["subject"] != nil || line["role"] != nil || line["client"] != "127.0.0.1" {
		t.Errorf("anonymous call's log line = %v, want a client and no caller", line)
	}
}
