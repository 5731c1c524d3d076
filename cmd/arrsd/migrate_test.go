package main

import (
	"bytes"
	"strings"
	"testing"

	"arrs.nhs.uk/arrs/internal/pgtest"
)

// arrsd migrate needs only a database: none of serve's configuration (the
// environment, an identity provider, listeners) applies to it.
func TestMigrateCommandNeedsOnlyADatabase(t *testing.T) {
	url := pgtest.NewDatabase(t)
	var out, logs bytes.Buffer
	err := run(t.Context(), []string{"migrate", "--database-url", url, "--data-dir", t.TempDir()},
		func(string) string { return "" }, &out, &logs)
	if err != nil {
		t.Fatalf("arrsd migrate: %v\n%s", err, logs.String())
	}
	if !strings.Contains(logs.String(), `"msg":"database migrated"`) {
		t.Errorf("arrsd migrate logged:\n%s", logs.String())
	}
}
