package claims

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// decodeSegments must read what encoding/json reads, the same, and leave
// to encoding/json whatever it does not recognise.
func TestSegmentsDecodeAsEncodingJSONDecodesThem(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   string
		fast bool // read by decodeSegments, not handed to encoding/json
	}{
		{"as jsonb prints them", `[{"days": 30, "to_date": "2025-04-30", "from_date": "2025-04-01", "rate_effective": "2025-04-01", "annual_max_pence": 3650000}]`, true},
		{"two, compact", `[{"days":14,"to_date":"2025-05-14","from_date":"2025-05-01","rate_effective":"2024-04-01","annual_max_pence":0},` +
			`{"days":17,"to_date":"2025-05-31","from_date":"2025-05-15","rate_effective":"2025-05-15","annual_max_pence":6697200}]`, true},
		{"none", `[]`, true},
		{"29 February", `[{"days": 1, "to_date": "2024-02-29", "from_date": "2024-02-29", "rate_effective": "2023-04-01", "annual_max_pence": 1}]`, true},
		{"31 April is no date", `[{"days": 1, "to_date": "2025-04-31", "from_date": "2025-04-01", "rate_effective": "2025-04-01", "annual_max_pence": 1}]`, false},
		{"an escaped string", `[{"days": 1, "to_date": "2025-04-3\u0030", "from_date": "2025-04-01", "rate_effective": "2025-04-01", "annual_max_pence": 1}]`, false},
		{"a fraction", `[{"days": 1.5, "to_date": "2025-04-30", "from_date": "2025-04-01", "rate_effective": "2025-04-01", "annual_max_pence": 1}]`, false},
		{"a negative number", `[{"days": -1, "to_date": "2025-04-30", "from_date": "2025-04-01", "rate_effective": "2025-04-01", "annual_max_pence": 1}]`, false},
		{"a key missing", `[{"days": 1, "to_date": "2025-04-30", "from_date": "2025-04-01", "annual_max_pence": 1}]`, false},
		{"a key twice", `[{"days": 1, "days": 2, "to_date": "2025-04-30", "from_date": "2025-04-01", "rate_effective": "2025-04-01", "annual_max_pence": 1}]`, false},
		{"a key it does not know", `[{"days": 1, "to_date": "2025-04-30", "from_date": "2025-04-01", "rate_effective": "2025-04-01", "annual_max_pence": 1, "x": 1}]`, false},
		{"null", `null`, false},
		{"something after", `[] []`, false},
		{"cut short", `[{"days": 1`, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fast, ok := decodeSegments([]byte(tt.in))
			if ok != tt.fast {
				t.Fatalf("decodeSegments read it: %v, want %v", ok, tt.fast)
			}
			var want capSegments
			wantErr := json.Unmarshal([]byte(tt.in), &want)
			var got capSegments
			gotErr := got.Scan([]byte(tt.in))
			if (gotErr == nil) != (wantErr == nil) || !reflect.DeepEqual(got, want) {
				t.Errorf("Scan = %+v (%v); encoding/json = %+v (%v)", got, gotErr, want, wantErr)
			}
			if ok && !reflect.DeepEqual(fast, want) {
				t.Errorf("decodeSegments = %+v; encoding/json = %+v", fast, want)
			}
		})
	}
}

// BenchmarkCapSegmentsScan reads a line's segments (two, as a month with a
// new rate has) by Scan and by encoding/json, alternating, and reports
// Scan's time ÷ encoding/json's:
//
//	go test -run '^$' -bench CapSegmentsScan ./claims/
func BenchmarkCapSegmentsScan(b *testing.B) {
	in := []byte(`[{"days": 14, "to_date": "2025-05-14", "from_date": "2025-05-01", "rate_effective": "2024-04-01", "annual_max_pence": 6518000}, ` +
		`{"days": 17, "to_date": "2025-05-31", "from_date": "2025-05-15", "rate_effective": "2025-05-15", "annual_max_pence": 6697200}]`)
	var scan, std time.Duration
	for b.Loop() {
		t0 := time.Now()
		var c capSegments
		if err := c.Scan(in); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		var j capSegments
		if err := json.Unmarshal(in, &j); err != nil {
			b.Fatal(err)
		}
		scan, std = scan+t1.Sub(t0), std+time.Since(t1)
	}
	b.ReportMetric(float64(scan)/float64(std), "scan/encoding-json")
}
