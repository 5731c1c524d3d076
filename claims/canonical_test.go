package claims

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"
)

// canonicalJSONByDecoding is the canonical form as arrs first made it, and
// as every event recorded so far was MACed over: the document decoded into
// any with numbers kept as text, the numbers normalised, and encoded again
// by encoding/json without HTML escaping. canonicalJSON must give the same
// bytes for every valid document, or old events would stop verifying.
func canonicalJSONByDecoding(doc []byte) ([]byte, error) {
	d := json.NewDecoder(bytes.NewReader(doc))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, fmt.Errorf("audit JSON: %w", err)
	}
	if d.More() {
		return nil, errors.New("audit JSON: trailing data")
	}
	v, err := normaliseNumbersForTest(v)
	if err != nil {
		return nil, err
	}
	return encodeJSON(v)
}

func normaliseNumbersForTest(v any) (any, error) {
	switch v := v.(type) {
	case json.Number:
		n, err := plainDecimal(string(v))
		return json.Number(n), err
	case []any:
		for i := range v {
			var err error
			if v[i], err = normaliseNumbersForTest(v[i]); err != nil {
				return nil, err
			}
		}
	case map[string]any:
		for k := range v {
			var err error
			if v[k], err = normaliseNumbersForTest(v[k]); err != nil {
				return nil, err
			}
		}
	}
	return v, nil
}

// canonicalSeeds are documents of every shape the trail holds or jsonb
// gives back: claims as Go marshals them, jsonb's spaced text, escapes,
// surrogates, bad UTF-8, duplicate keys, numbers in every form.
var canonicalSeeds = []string{
	`{"wte": 1.50, "b": 1e2, "c": 1.5e1, "d": 1.50e1, "e": 1E-7, "f": -0, "g": -0.00, "h": 0.000}`,
	`[12345678901234567890, -12.3400, 0, 100, 2.5E+3, -1e-2]`,
	`{"z": 1, "a": {"y": [true, false, null], "b": "x"}, "a": "duplicate, last wins"}`,
	`{"name": "Zoë <b> & \u2028 \"quoted\" \\ \t tab", "emoji": "🙂", "ctl": "\u001f"}`,
	`{"esc":"\u003cb\u003e \/ \b\f\n\r\t \ud83d\ude42 \ud800 lone","raw":"  spaced  ","":"empty key"}`,
	"{\"bad\":\"\xff\xfe invalid\",\"sep\":\"\u2028\u2029\",\"del\":\"\x7f\"}",
	`"a JSON string"`, `42`, `[]`, `{}`, `null`, `true`, ` [ 1 , { } , [ ] ] `,
	`{"b":{"d":1,"c":[{"f":2,"e":3}]},"a":[]}`,
}

func TestCanonicalJSONIsEncodingJSONsForm(t *testing.T) {
	docs := append([]string(nil), canonicalSeeds...)
	// A claim, as the trail records one.
	c := Claim{PCNCode: "U12345", ID: "2025-04", State: ClaimSubmitted, Lines: []ClaimLine{
		{PostID: "ot-1", WTE: 6000, GrossSalary: 250000, CapPence: 312345, Segments: capSegments{{From: DateOf(time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)), Days: 30, AnnualMaxPence: 4400000}}},
		{PostID: "cc-<&>", WTE: 10000, AdjustmentReason: "line\nbreak \"quoted\""},
	}}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	docs = append(docs, string(b))
	for _, doc := range docs {
		want, err := canonicalJSONByDecoding([]byte(doc))
		if err != nil {
			t.Fatalf("%s: %v", doc, err)
		}
		got, err := canonicalJSON([]byte(doc))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("canonicalJSON(%s)\n  = %s, %v\nwant %s", doc, got, err, want)
		}
	}
	for _, bad := range []string{``, `{`, `{"a"}`, `{"a":}`, `[1,]`, `[1 2]`, `01`, `1.`, `-`, `1e`, `tru`, `"open`, "\"ctl\x01\"", `{"a":1} x`, `{a:1}`} {
		if out, err := canonicalJSON([]byte(bad)); err == nil {
			t.Errorf("canonicalJSON(%q) = %s, want an error", bad, out)
		}
	}
}

// FuzzCanonicalJSON holds canonicalJSON to encoding/json's form on every
// valid document the fuzzer finds.
func FuzzCanonicalJSON(f *testing.F) {
	for _, s := range canonicalSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		got, err := canonicalJSON(doc)
		if !json.Valid(doc) {
			if err == nil {
				t.Fatalf("canonicalJSON(%q) = %s for invalid JSON", doc, got)
			}
			return
		}
		want, wantErr := canonicalJSONByDecoding(doc)
		if (err != nil) != (wantErr != nil) || !bytes.Equal(got, want) {
			t.Fatalf("canonicalJSON(%q)\n  = %s, %v\nwant %s, %v", doc, got, err, want, wantErr)
		}
	})
}

// BenchmarkCanonicalJSON compares canonicalJSON with the decode and
// re-encode it replaced, on a claim of 30 lines as SubmitClaim records it:
//
//	go test -run '^$' -bench CanonicalJSON ./claims/
func BenchmarkCanonicalJSON(b *testing.B) {
	c := Claim{PCNCode: "U12345", ID: "2025-04", State: ClaimSubmitted}
	for i := range 30 {
		c.Lines = append(c.Lines, ClaimLine{PostID: fmt.Sprintf("post-%d", i), WTE: 6000, GrossSalary: 250000 + int64(i),
			EmployerNI: 25000, CapPence: 312345, ReimbursablePence: 275000,
			Segments: capSegments{{From: DateOf(time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)), Days: 30, AnnualMaxPence: 4400000}}})
	}
	doc, err := json.Marshal(c)
	if err != nil {
		b.Fatal(err)
	}
	for _, impl := range []struct {
		name string
		fn   func([]byte) ([]byte, error)
	}{{"baseline/decode-and-encode", canonicalJSONByDecoding}, {"one-pass", canonicalJSON}} {
		b.Run(impl.name, func(b *testing.B) {
			b.SetBytes(int64(len(doc)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := impl.fn(doc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
