// Package proto holds the arrs API's definition: the .proto files under
// arrs/v1, which buf compiles into gen/, and the HTTP rules that bind their
// RPCs to REST paths (arrs/v1/arrs_http.yaml).
//
// Its only Go is the embedded HTTP rules, so the REST gateway's request
// checks (package server) read the very bindings the gateway was generated
// from, rather than a copy that could drift.
package proto

import _ "embed"

// HTTPRules is arrs/v1/arrs_http.yaml: a google.api.Service document whose
// http.rules bind each RPC to a method, a path template and a body.
//
//go:embed arrs/v1/arrs_http.yaml
var HTTPRules []byte
