package claims

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"unicode/utf8"
)

// canonicalJSON re-encodes a JSON document in arrs's canonical form: object
// keys sorted, no insignificant space, HTML characters unescaped, and numbers
// as PostgreSQL's numeric prints them (plain decimal, no exponent), which is
// how jsonb stores them. Unmarshalling it and jsonb's text form of it give
// the same value.
//
// It is the form encoding/json gives a document decoded into any (numbers
// kept as text, then normalised) and encoded again without HTML escaping,
// byte for byte (TestCanonicalJSONIsEncodingJSONsForm holds it to that), but
// made in one pass over the bytes: every write records a claim or two in the
// audit trail, and the decode into maps and the reflective re-encode were a
// third of SubmitClaim's CPU in arrsd (bench/national --cpu-profile).
func canonicalJSON(doc []byte) ([]byte, error) {
	c := canonicaliser{in: doc}
	out, err := c.value(make([]byte, 0, len(doc)))
	if err != nil {
		return nil, fmt.Errorf("audit JSON: %w", err)
	}
	c.space()
	if c.pos != len(c.in) {
		return nil, errors.New("audit JSON: trailing data")
	}
	return out, nil
}

// canonicaliser reads one JSON document from in, from pos on.
type canonicaliser struct {
	in  []byte
	pos int
	// scratch holds, per depth of nesting, an object's members and values
	// while it is sorted: objects at one depth never overlap, so each
	// depth's buffers serve all of them and a claim's hundred objects
	// allocate a few buffers, not a hundred.
	depth   int
	scratch []objectScratch
}

type objectScratch struct {
	members []member
	values  []byte
	order   []int
}

var errJSONSyntax = errors.New("invalid JSON")

func (c *canonicaliser) space() {
	for c.pos < len(c.in) {
		switch c.in[c.pos] {
		case ' ', '\t', '\n', '\r':
			c.pos++
		default:
			return
		}
	}
}

// value appends the canonical form of the value at pos to out.
func (c *canonicaliser) value(out []byte) ([]byte, error) {
	c.space()
	if c.pos >= len(c.in) {
		return nil, errJSONSyntax
	}
	switch b := c.in[c.pos]; {
	case b == '{':
		return c.object(out)
	case b == '[':
		return c.array(out)
	case b == '"':
		raw, s, err := c.str()
		if err != nil {
			return nil, err
		}
		if raw != nil {
			return append(out, raw...), nil
		}
		return appendJSONString(out, s), nil
	case b == '-' || (b >= '0' && b <= '9'):
		return c.number(out)
	default:
		for _, lit := range []string{"true", "false", "null"} {
			if bytes.HasPrefix(c.in[c.pos:], []byte(lit)) {
				c.pos += len(lit)
				return append(out, lit...), nil
			}
		}
		return nil, errJSONSyntax
	}
}

// member is one of an object's keys, decoded, with where its value's
// canonical form lies in the object's buffer of values.
type member struct {
	// key is the key's value, for sorting; quoted is its canonical form.
	key, quoted []byte
	start, end  int
}

func (c *canonicaliser) object(out []byte) ([]byte, error) {
	c.pos++ // {
	c.space()
	if c.pos < len(c.in) && c.in[c.pos] == '}' {
		c.pos++
		return append(out, "{}"...), nil
	}
	// The values are made in one buffer and the members sorted as indexes:
	// sorting the members themselves moved strings and slices about, which
	// was most of the time.
	d := c.depth
	c.depth++
	defer func() { c.depth-- }()
	if len(c.scratch) <= d {
		c.scratch = append(c.scratch, objectScratch{})
	}
	members, values, order := c.scratch[d].members[:0], c.scratch[d].values[:0], c.scratch[d].order[:0]
	// Deeper objects may grow c.scratch; this depth's buffers go back by
	// index, whatever they have grown to.
	defer func() { c.scratch[d] = objectScratch{members, values, order} }()
	for {
		c.space()
		if c.pos >= len(c.in) || c.in[c.pos] != '"' {
			return nil, errJSONSyntax
		}
		raw, s, err := c.str()
		if err != nil {
			return nil, err
		}
		var key, quoted []byte
		if raw != nil {
			key, quoted = raw[1:len(raw)-1], raw
		} else {
			key, quoted = []byte(s), appendJSONString(nil, s)
		}
		c.space()
		if c.pos >= len(c.in) || c.in[c.pos] != ':' {
			return nil, errJSONSyntax
		}
		c.pos++
		start := len(values)
		if values, err = c.value(values); err != nil {
			return nil, err
		}
		members = append(members, member{key, quoted, start, len(values)})
		c.space()
		if c.pos >= len(c.in) {
			return nil, errJSONSyntax
		}
		if c.in[c.pos] == '}' {
			c.pos++
			break
		}
		if c.in[c.pos] != ',' {
			return nil, errJSONSyntax
		}
		c.pos++
	}
	for i := range members {
		order = append(order, i)
	}
	// By key, and a key given twice by where it came: the last is kept, as
	// decoding into a map does (and as jsonb does).
	slices.SortFunc(order, func(a, b int) int {
		if c := bytes.Compare(members[a].key, members[b].key); c != 0 {
			return c
		}
		return a - b
	})
	out = append(out, '{')
	for i, k := range order {
		m := members[k]
		if i+1 < len(order) && bytes.Equal(members[order[i+1]].key, m.key) {
			continue
		}
		if out[len(out)-1] != '{' {
			out = append(out, ',')
		}
		out = append(out, m.quoted...)
		out = append(out, ':')
		out = append(out, values[m.start:m.end]...)
	}
	return append(out, '}'), nil
}

func (c *canonicaliser) array(out []byte) ([]byte, error) {
	c.pos++ // [
	out = append(out, '[')
	c.space()
	if c.pos < len(c.in) && c.in[c.pos] == ']' {
		c.pos++
		return append(out, ']'), nil
	}
	for first := true; ; first = false {
		if !first {
			out = append(out, ',')
		}
		var err error
		if out, err = c.value(out); err != nil {
			return nil, err
		}
		c.space()
		if c.pos >= len(c.in) {
			return nil, errJSONSyntax
		}
		if c.in[c.pos] == ']' {
			c.pos++
			return append(out, ']'), nil
		}
		if c.in[c.pos] != ',' {
			return nil, errJSONSyntax
		}
		c.pos++
	}
}

// str reads the string at pos. A string that is its own canonical form
// (no escapes, valid UTF-8, neither U+2028 nor U+2029) comes back as its
// bytes, quotes included, and nothing is allocated; any other is decoded by
// encoding/json into s, so that escapes, surrogates and bad UTF-8 decode
// exactly as they always have.
func (c *canonicaliser) str() (raw []byte, s string, err error) {
	start := c.pos
	plain := true
	i := start + 1
	for ; i < len(c.in); i++ {
		b := c.in[i]
		if b == '"' {
			break
		}
		switch {
		case b == '\\':
			plain = false
			i++ // the escaped byte cannot end the string
		case b < 0x20:
			return nil, "", errJSONSyntax
		case b >= utf8.RuneSelf:
			// Checked below; U+2028 and U+2029 (E2 80 A8/A9) are escaped.
			if b == 0xE2 && i+2 < len(c.in) && c.in[i+1] == 0x80 && (c.in[i+2] == 0xA8 || c.in[i+2] == 0xA9) {
				plain = false
			}
		}
	}
	if i >= len(c.in) {
		return nil, "", errJSONSyntax
	}
	c.pos = i + 1
	if plain && utf8.Valid(c.in[start+1:i]) {
		return c.in[start:c.pos], "", nil
	}
	s, err = decodeString(c.in[start:c.pos])
	return nil, s, err
}

// decodeString decodes one JSON string token by encoding/json. It is a
// function of its own so that its result alone escapes to the heap, not
// every string str reads.
func decodeString(token []byte) (string, error) {
	var s string
	err := json.Unmarshal(token, &s)
	return s, err
}

// number appends the number at pos as PostgreSQL's numeric prints it.
func (c *canonicaliser) number(out []byte) ([]byte, error) {
	start := c.pos
	i := start
	digits := func() int {
		n := 0
		for i < len(c.in) && c.in[i] >= '0' && c.in[i] <= '9' {
			i, n = i+1, n+1
		}
		return n
	}
	if c.in[i] == '-' {
		i++
	}
	switch {
	case i < len(c.in) && c.in[i] == '0':
		i++
	case digits() == 0:
		return nil, errJSONSyntax
	}
	if i < len(c.in) && c.in[i] == '.' {
		i++
		if digits() == 0 {
			return nil, errJSONSyntax
		}
	}
	if i < len(c.in) && (c.in[i] == 'e' || c.in[i] == 'E') {
		i++
		if i < len(c.in) && (c.in[i] == '+' || c.in[i] == '-') {
			i++
		}
		if digits() == 0 {
			return nil, errJSONSyntax
		}
	}
	c.pos = i
	// Most numbers are pence, counts and decimals already in numeric's
	// form: no exponent, not a negative zero.
	raw := c.in[start:i]
	if bytes.IndexAny(raw, "eE") < 0 && !bytes.HasPrefix(raw, []byte("-0")) {
		return append(out, raw...), nil
	}
	n, err := plainDecimal(string(raw))
	if err != nil {
		return nil, err
	}
	return append(out, n...), nil
}

// appendJSONString appends s quoted as encoding/json writes it without HTML
// escaping: '"', '\\' and control characters escaped (\n, \r, \t, \b, \f
// by name, the rest as \u00xx), U+2028 and U+2029 as \u2028 and \u2029,
// invalid UTF-8 as \ufffd, everything else as itself.
func appendJSONString(out []byte, s string) []byte {
	const hex = "0123456789abcdef"
	out = append(out, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			out = append(out, s[start:i]...)
			switch b {
			case '"', '\\':
				out = append(out, '\\', b)
			case '\b':
				out = append(out, '\\', 'b')
			case '\f':
				out = append(out, '\\', 'f')
			case '\n':
				out = append(out, '\\', 'n')
			case '\r':
				out = append(out, '\\', 'r')
			case '\t':
				out = append(out, '\\', 't')
			default:
				out = append(out, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			out = append(out, s[start:i]...)
			out = append(out, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			out = append(out, s[start:i]...)
			out = append(out, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	out = append(out, s[start:]...)
	return append(out, '"')
}
