package claims

import (
	"encoding/json"
	"time"
)

// Reading a line's cap segments from their jsonb column.
//
// Every line read (GetClaim, a month's lines, a review) decodes its
// segments, and encoding/json spent about 14% of GetClaim's CPU on them
// (reflection, and each segment's text validated twice: once in the array,
// once in CapSegment.UnmarshalJSON). The column holds only what
// capSegments.Value wrote, as PostgreSQL prints jsonb: an array of flat
// objects of five known keys, dates as "YYYY-MM-DD" strings and whole
// numbers. decodeSegments reads exactly that shape by hand; anything else
// (an escape, a fraction, a key it does not know) goes to encoding/json, so
// what it accepts and how it fails do not change.

func (c *capSegments) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case []byte:
		b = v
	case string:
		b = []byte(v)
	default:
		return scanJSON(src, c)
	}
	if segs, ok := decodeSegments(b); ok {
		*c = segs
		return nil
	}
	return json.Unmarshal(b, c)
}

// decodeSegments reads a jsonb array of segments, or reports false for any
// input it does not recognise.
func decodeSegments(b []byte) (capSegments, bool) {
	d := segmentDecoder{b: b}
	if !d.take('[') {
		return nil, false
	}
	out := capSegments{}
	if d.take(']') {
		return out, d.end()
	}
	for {
		s, ok := d.segment()
		if !ok {
			return nil, false
		}
		out = append(out, s)
		if d.take(']') {
			return out, d.end()
		}
		if !d.take(',') {
			return nil, false
		}
	}
}

type segmentDecoder struct {
	b []byte
	i int
}

func (d *segmentDecoder) space() {
	for d.i < len(d.b) && (d.b[d.i] == ' ' || d.b[d.i] == '\n' || d.b[d.i] == '\t' || d.b[d.i] == '\r') {
		d.i++
	}
}

// take consumes c, after any white space, if it comes next.
func (d *segmentDecoder) take(c byte) bool {
	d.space()
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

func (d *segmentDecoder) end() bool {
	d.space()
	return d.i == len(d.b)
}

// str reads a string without escapes.
func (d *segmentDecoder) str() (string, bool) {
	if !d.take('"') {
		return "", false
	}
	start := d.i
	for d.i < len(d.b) {
		switch c := d.b[d.i]; {
		case c == '"':
			d.i++
			return string(d.b[start : d.i-1]), true
		case c == '\\' || c < 0x20:
			return "", false
		}
		d.i++
	}
	return "", false
}

// whole reads a non-negative whole number of at most 18 digits (so it
// cannot overflow an int64).
func (d *segmentDecoder) whole() (int64, bool) {
	d.space()
	start := d.i
	var n int64
	for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' && d.i-start < 18 {
		n = n*10 + int64(d.b[d.i]-'0')
		d.i++
	}
	if d.i == start || (d.i < len(d.b) && (d.b[d.i] == '.' || d.b[d.i] == 'e' || d.b[d.i] == 'E' || d.b[d.i] >= '0' && d.b[d.i] <= '9')) {
		return 0, false
	}
	if d.b[start] == '0' && d.i-start > 1 {
		return 0, false // a leading zero is not JSON
	}
	return n, true
}

// segment reads one object with each of the five keys once.
func (d *segmentDecoder) segment() (CapSegment, bool) {
	var s CapSegment
	if !d.take('{') {
		return s, false
	}
	var seen [5]bool
	for {
		key, ok := d.str()
		if !ok || !d.take(':') {
			return s, false
		}
		var k int
		switch key {
		case "from_date":
			k, ok = 0, d.date(&s.From)
		case "to_date":
			k, ok = 1, d.date(&s.To)
		case "rate_effective":
			k, ok = 2, d.date(&s.RateEffective)
		case "days":
			var n int64
			n, ok = d.whole()
			k, s.Days = 3, int(n)
		case "annual_max_pence":
			k = 4
			s.AnnualMaxPence, ok = d.whole()
		default:
			return s, false
		}
		if !ok || seen[k] {
			return s, false
		}
		seen[k] = true
		if d.take('}') {
			return s, seen == [5]bool{true, true, true, true, true}
		}
		if !d.take(',') {
			return s, false
		}
	}
}

// date reads a "YYYY-MM-DD" string as ParseDate would, without time.Parse's
// generality.
func (d *segmentDecoder) date(dst *Date) bool {
	v, ok := d.str()
	if !ok || len(v) != 10 || v[4] != '-' || v[7] != '-' {
		return false
	}
	num := func(s string) (int, bool) {
		n := 0
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return 0, false
			}
			n = n*10 + int(s[i]-'0')
		}
		return n, true
	}
	y, ok1 := num(v[:4])
	m, ok2 := num(v[5:7])
	day, ok3 := num(v[8:])
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || day < 1 {
		return false
	}
	t := time.Date(y, time.Month(m), day, 0, 0, 0, 0, time.UTC)
	if t.Day() != day { // 31 April rolls over: not a date
		return false
	}
	*dst = Date{t: t}
	return true
}
