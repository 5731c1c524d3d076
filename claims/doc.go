// Package claims is the ARRS domain: organisations, the role catalogue and
// its effective-dated rates, funding and entitlements, posts, monthly claims
// and their review, supplementary top-ups, budgets and the audit trail — the
// rules that govern them and their PostgreSQL persistence.
//
// It owns every business rule and every SQL statement. It knows nothing of
// gRPC, HTTP or protobuf: the server package translates requests into calls
// here and domain errors (*Error) into status codes. Money is integer pence,
// exact quantities are Decimal, calendar days are Date and months Month.
//
// A claim's state moves only through the transition table (transitions.go):
// state × action → state, with who may act. Reads made of several statements
// run in one read-only snapshot, so their figures agree.
//
// Every call names its Actor in the context: reads are scoped to the
// actor's organisation in the SQL itself, and every write appends to the
// audit trail in its own transaction. A context without an actor sees
// nothing and may write nothing.
package claims
