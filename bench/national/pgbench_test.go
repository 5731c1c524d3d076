package main

import (
	"strings"
	"testing"
)

// Every trail's transaction is submit.pgbench's, statement for statement,
// outside the audit trail section; only the section differs.
func TestTransactionWithSwapsOnlyTheAuditTrail(t *testing.T) {
	outside := func(t *testing.T, script, marker string) string {
		t.Helper()
		i := strings.Index(script, marker)
		if i < 0 {
			t.Fatalf("no %q in the transaction", marker)
		}
		return script[:i]
	}
	none, err := transactionWith(submitScript, "")
	if err != nil {
		t.Fatal(err)
	}
	v1, err := transactionWith(submitScript, auditV1Statements)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, script    string
		has, hasNot     []string
		auditStartsWith string
	}{
		{"chains", submitScript, []string{"FROM audit_heads WHERE chain", "INSERT INTO audit_events"}, []string{"audit_head FOR UPDATE"}, "-- audit trail {"},
		{"none", none, nil, []string{"audit_head", "audit_events", "audit trail {"}, "UPDATE request_ids"},
		{"v1", v1, []string{"audit_head FOR UPDATE", "audit_event_hash(", "INSERT INTO audit_events"}, []string{"audit_heads", "audit trail {"}, "-- The audit statements"},
	}
	before := outside(t, submitScript, "-- audit trail {")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := outside(t, tt.script, tt.auditStartsWith); got != before {
				t.Errorf("the statements before the audit trail differ from submit.pgbench's:\n%s", got)
			}
			if !strings.HasSuffix(tt.script, "UPDATE request_ids SET resource_name = 'pcns/' || :pcn || '/claims/' || :claim WHERE request_id = :rid;\nCOMMIT;\n") {
				t.Errorf("the transaction does not end as submit.pgbench's does:\n%s", tt.script[max(0, len(tt.script)-200):])
			}
			for _, s := range tt.has {
				if !strings.Contains(tt.script, s) {
					t.Errorf("no %q", s)
				}
			}
			for _, s := range tt.hasNot {
				if strings.Contains(tt.script, s) {
					t.Errorf("has %q", s)
				}
			}
		})
	}
	if _, err := transactionWith("BEGIN;\nCOMMIT;\n", ""); err == nil {
		t.Error("a script without an audit trail section was accepted")
	}
}
