// Package claims is the ARRS domain: organisations, the role catalogue,
// funding, posts and (later) claims, with the rules that govern them and their
// PostgreSQL persistence.
//
// It owns every business rule and every SQL statement. It knows nothing of
// gRPC, HTTP or protobuf: the server package translates requests into calls
// here and domain errors (*Error) into status codes. Money is integer pence,
// exact quantities are Decimal, and calendar days are Date.
package claims
