// Package auth establishes who is calling arrs: it turns the credentials on
// a gRPC call into an Identity, and nothing more.
//
// It owns:
//
//   - bearer JWTs (JWTVerifier): signature checked against a JSON Web Key Set
//     from a file or an identity provider's URL, kept fresh in the
//     background; RS256, ES256 and EdDSA only; issuer, audience, exp and nbf
//     enforced; identity read from "sub", "arrs_role" and "arrs_org";
//   - client certificates for service accounts (IdentityFromTLS,
//     ServerTLSConfig, LoadServiceAccounts): a certificate chained to the
//     configured client CA and naming a configured account by its SPIFFE
//     URI SAN, spiffe://arrs/service/NAME;
//   - the Authenticator the server's interceptor calls, which tries the
//     bearer token first and the client certificate second;
//   - development keys (DevKeys): a local Ed25519 signing key that mints
//     tokens when no identity provider is configured, and RefuseDevKeys,
//     which keeps them out of production configuration;
//   - the error vocabulary: every failure is an *Error carrying a short
//     UPPER_SNAKE reason for the UNAUTHENTICATED status.
//
// It must not decide what a caller may do. Roles, permissions and
// organisations are read, checked for shape and passed on; which RPCs a role
// may call is package server's policy, and which rows it may see is package
// claims's. It must never put a credential (a token, or any part of one) in
// an error or a log line.
package auth
