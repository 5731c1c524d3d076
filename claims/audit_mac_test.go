package claims

import (
	"testing"

	"arrs.nhs.uk/arrs/internal/pgtest"
)

// An event's MAC covers canonical JSON computed before the event is stored
// and again from what jsonb gives back, so the two must agree for any
// document: numbers in every form, keys jsonb reorders or deduplicates,
// text encoding/json escapes.
func TestCanonicalJSONSurvivesJSONB(t *testing.T) {
	db := pgtest.NewDB(t)
	docs := []string{
		`{"wte": 1.50, "b": 1e2, "c": 1.5e1, "d": 1.50e1, "e": 1E-7, "f": -0, "g": -0.00, "h": 0.000}`,
		`[12345678901234567890, -12.3400, 0, 100, 2.5E+3, -1e-2]`,
		`{"z": 1, "a": {"y": [true, false, null], "b": "x"}, "a": "duplicate, last wins"}`,
		`{"name": "Zoë <b> & \u2028 \"quoted\" \\ \t tab", "emoji": "🙂", "ctl": "\u001f"}`,
		`"a JSON string"`, `42`, `[]`, `{}`,
	}
	for _, doc := range docs {
		var stored string
		if err := db.Get(&stored, `SELECT $1::jsonb::text`, doc); err != nil {
			t.Fatalf("%s: %v", doc, err)
		}
		before, err := canonicalJSON([]byte(doc))
		if err != nil {
			t.Fatalf("%s: %v", doc, err)
		}
		// What is stored is the canonical form, so check that round trip too.
		var restored string
		if err := db.Get(&restored, `SELECT $1::jsonb::text`, string(before)); err != nil {
			t.Fatal(err)
		}
		for _, back := range []string{stored, restored} {
			after, err := canonicalJSON([]byte(back))
			if err != nil {
				t.Fatalf("%s: %v", back, err)
			}
			if string(after) != string(before) {
				t.Errorf("canonical JSON of %s\n  before jsonb: %s\n  after jsonb (%s): %s", doc, before, back, after)
			}
		}
	}
}

func TestPlainDecimalPrintsAsNumericDoes(t *testing.T) {
	tests := map[string]string{
		"0": "0", "-0": "0", "-0.00": "0.00", "1.50": "1.50", "1e2": "100", "1.5e1": "15", "1.50e1": "15.0",
		"1E-7": "0.0000001", "-1e-2": "-0.01", "2.5E+3": "2500", "0.000": "0.000", "12345678901234567890": "12345678901234567890",
		"007": "7", "-12.3400": "-12.3400", "0E2": "0", "-0e3": "0", "0.0e1": "0", "0.00e1": "0.0",
	}
	for in, want := range tests {
		if got, err := plainDecimal(in); err != nil || got != want {
			t.Errorf("plainDecimal(%s) = %s, %v; want %s", in, got, err, want)
		}
	}
}
