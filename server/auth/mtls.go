package auth

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"arrs.nhs.uk/arrs/claims"
)

// Service accounts are other NHS services calling arrs with a client
// certificate. A certificate names its account in a URI SAN,
//
//	spiffe://arrs/service/NAME
//
// (the SPIFFE ID form), not in its Subject CommonName: a SAN is where X.509
// puts identities, CA name constraints apply to URI SANs but not to CNs, and
// the fixed prefix cannot be confused with a host name that some other
// certificate from the same CA carries as its CN. The certificate must chain
// to the client CA given to ServerTLSConfig; what the account may do is its
// configured permissions, checked by the server's policy, not here.

// ServiceIDPrefix starts the URI SAN that names a service account.
const ServiceIDPrefix = "spiffe://arrs/service/"

// ServiceAccount is a configured service: its name (the NAME in its
// certificate's SPIFFE ID) and the permissions it is granted.
type ServiceAccount struct {
	Name        string
	Permissions []string
}

var (
	accountNamePattern = regexp.MustCompile(`^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$`)
	// permissionPattern is the shape of the server's permission names,
	// "posts.read"; which ones exist is the server's business.
	permissionPattern = regexp.MustCompile(`^[a-z][a-z-]*(?:\.[a-z][a-z-]*)+$`)
)

// LoadServiceAccounts reads the service accounts file, a JSON object from
// account name to its grants:
//
//	{"reporting": {"permissions": ["posts.read", "pcns.read"]}}
//
// Unknown fields, malformed names or permissions and duplicate names are
// errors, so a typo cannot silently grant or withhold access.
func LoadServiceAccounts(path string) (map[string]ServiceAccount, error) {
	data, err := readBounded(path)
	if err != nil {
		return nil, fmt.Errorf("auth: service accounts: %w", err)
	}
	accounts, err := parseServiceAccounts(data)
	if err != nil {
		return nil, fmt.Errorf("auth: service accounts %s: %w", path, err)
	}
	return accounts, nil
}

func parseServiceAccounts(data []byte) (map[string]ServiceAccount, error) {
	type entry struct {
		Permissions []string `json:"permissions"`
	}
	// The object is read key by key because encoding/json lets a later
	// duplicate key silently replace an earlier one.
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("not a JSON object of service accounts")
	}
	accounts := map[string]ServiceAccount{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name, _ := tok.(string)
		if !accountNamePattern.MatchString(name) {
			return nil, fmt.Errorf("account name %.70q: use lower-case letters, digits and hyphens, starting with a letter", name)
		}
		if _, dup := accounts[name]; dup {
			return nil, fmt.Errorf("account %q appears twice", name)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("account %q: %w", name, err)
		}
		var e entry
		strict := json.NewDecoder(bytes.NewReader(raw))
		strict.DisallowUnknownFields()
		if err := strict.Decode(&e); err != nil {
			return nil, fmt.Errorf("account %q: %w", name, err)
		}
		for _, p := range e.Permissions {
			if !permissionPattern.MatchString(p) {
				return nil, fmt.Errorf("account %q: permission %.70q is not of the form \"posts.read\"", name, p)
			}
		}
		slices.Sort(e.Permissions)
		accounts[name] = ServiceAccount{Name: name, Permissions: slices.Compact(e.Permissions)}
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("unexpected data after the accounts object")
	}
	return accounts, nil
}

// IdentityFromTLS returns the service account identity of a TLS peer whose
// certificate the handshake verified and whose SPIFFE ID names an account
// in accounts. It is false for a peer with no certificate, an unverified
// one (a server configured to request but not verify), a certificate with
// no SPIFFE ID or more than one, and an account not in accounts.
//
// It relies on state.VerifiedChains, which crypto/tls fills only after
// verifying the chain against the server's ClientCAs; so the listener must
// use a config like ServerTLSConfig's (VerifyClientCertIfGiven with the
// client CA pool), under which a certificate from another CA fails the
// handshake and never gets here.
func IdentityFromTLS(state tls.ConnectionState, accounts map[string]ServiceAccount) (Identity, bool) {
	if len(state.VerifiedChains) == 0 || len(state.VerifiedChains[0]) == 0 {
		return Identity{}, false
	}
	name, ok := serviceName(state.VerifiedChains[0][0])
	if !ok {
		return Identity{}, false
	}
	account, ok := accounts[name]
	if !ok {
		return Identity{}, false
	}
	return Identity{
		Subject: ServiceIDPrefix + name,
		Role:    claims.RoleServiceAccount,
		OrgKind: claims.OrgNational,
		// A copy, so nothing downstream can change the configuration.
		Permissions: slices.Clone(account.Permissions),
		Method:      MethodMTLS,
	}, true
}

// serviceName returns NAME from the certificate's one URI SAN of the form
// spiffe://arrs/service/NAME. Two such SANs are ambiguous and refused.
func serviceName(cert *x509.Certificate) (string, bool) {
	var names []string
	for _, u := range cert.URIs {
		if name, ok := strings.CutPrefix(u.String(), ServiceIDPrefix); ok {
			names = append(names, name)
		}
	}
	if len(names) != 1 || !accountNamePattern.MatchString(names[0]) {
		return "", false
	}
	return names[0], true
}

// ServerTLSConfig returns the gRPC listener's TLS configuration: the
// server's certificate and, when clientCAFile is given, client certificates
// verified against the CAs in it.
//
// Client certificates are verified if given (tls.VerifyClientCertIfGiven),
// not required, because people call with bearer tokens over the same
// listener; a certificate that does not chain to clientCAFile fails the
// handshake. clientCAFile should hold a CA that issues client certificates
// for arrs's service accounts only, since any certificate it signs with a
// configured SPIFFE ID is that account. With no clientCAFile no client
// certificate is asked for and there are no service accounts.
//
// TLS 1.2 is the minimum, for NHS partners' clients that lack 1.3; Go's
// default cipher suites for 1.2 are all forward-secret AEADs.
func ServerTLSConfig(certFile, keyFile, clientCAFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("auth: server certificate: %w", err)
	}
	cfg := &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.NoClientCert,
	}
	if clientCAFile == "" {
		return cfg, nil
	}
	pem, err := readBounded(clientCAFile)
	if err != nil {
		return nil, fmt.Errorf("auth: client CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("auth: client CA %s holds no PEM certificate", clientCAFile)
	}
	cfg.ClientCAs = pool
	cfg.ClientAuth = tls.VerifyClientCertIfGiven
	return cfg, nil
}
