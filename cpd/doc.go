// Package cpd is the Training Hub CPD ledger: the continuing professional
// development fund NHS England gives per eligible registered nurse and
// allied health professional, held by a Training Hub on its practices'
// behalf. It owns the hubs and the practices they serve, the schemes and
// their per-practice baselines and allocations, the CPD needs practices
// record from appraisals, the courses hubs commission, and funding
// requests with their approval, part-funding, rejection and payment.
//
// It shares package claims' store: its transactions, request_id
// idempotency, actors and audit trail, and returns *claims.Error, which the
// server maps to gRPC codes in one place. Like claims it knows nothing of
// gRPC, protobuf or HTTP. Which rows a caller sees is decided here from the
// actor: a practice manager sees the practice, a hub officer the practices
// the hub serves today, national staff everything.
package cpd
