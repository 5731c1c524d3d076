package claims

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// An event's MAC covers its contents, its place and its predecessor:
//
//	HMAC-SHA256(key, "arrs audit event v2" NL chain NL chain_seq NL seq NL
//	            time in µs NL hex(prev_mac) NL hex(SHA-256(body)))
//
// where body is the canonical JSON array of the event's fields (auditBody).
// The body is hashed before the chain's head is locked, so the lock is held
// for one HMAC of a short message, not for marshalling an event. Because the
// MAC is computed and checked in Go with a key the database never holds,
// verification trusts nothing the database computes: neither a function a
// superuser could replace nor a hash anyone could recompute.

// legacyKeyID marks events recorded before the chains, hash-chained with
// SHA-256 and no key (migration 00009).
const legacyKeyID = "sha256-v1"

// legacyGenesis is where the legacy chain started (audit_genesis_hash()).
var legacyGenesis = sha256.Sum256([]byte("arrs audit genesis"))

// auditGenesis is the prev_mac of a chain's first event. It needs no key: a
// chain's first event is still authenticated by its own MAC, which binds
// chain_seq 1, and removing it shows as a gap.
func auditGenesis(chain string) []byte {
	h := sha256.Sum256([]byte("arrs audit genesis\n" + chain))
	return h[:]
}

// auditChain is the chain a PCN's events join; reference data has none.
func auditChain(pcnCode string) string {
	if pcnCode == "" {
		return "national"
	}
	return pcnCode
}

// auditBody is the canonical form of an event's contents: a JSON array of
// its fields, with before and after in canonical JSON (canonicalJSON). It
// runs on the values about to be stored, whose documents are canonical
// already (canonical true: they are used as they are, which halves the
// work of appending a large claim), and on the values read back, whose
// documents are jsonb's text and are made canonical here. Canonical JSON is
// what both forms of the same jsonb value have in common, so the bytes
// agree.
func auditBody(e AuditEvent, canonical bool) ([]byte, error) {
	var pcn any
	if e.PCNCode != "" {
		pcn = e.PCNCode
	}
	head, err := encodeJSON([]any{"arrs audit event v2", e.Subject, e.Role, e.Organisation, e.RPC, e.RequestID,
		e.Resource, e.Action, pcn})
	if err != nil {
		return nil, err
	}
	body := head[:len(head)-1] // without its closing bracket
	for _, doc := range []json.RawMessage{e.Before, e.After} {
		body = append(body, ',')
		switch {
		case doc == nil:
			body = append(body, "null"...)
		case canonical:
			body = append(body, doc...)
		default:
			c, err := canonicalJSON(doc)
			if err != nil {
				return nil, err
			}
			body = append(body, c...)
		}
	}
	return append(body, ']'), nil
}

// plainDecimal writes a JSON number the way PostgreSQL's numeric does: no
// exponent, the scale its input implies (digits after the point less the
// exponent, never negative), and no minus sign on zero.
func plainDecimal(n string) (string, error) {
	mant, expText, hasExp := strings.Cut(strings.ToLower(n), "e")
	exp := 0
	if hasExp {
		var err error
		if exp, err = strconv.Atoi(expText); err != nil || exp > 1000 || exp < -1000 {
			return "", fmt.Errorf("audit JSON: number %q out of range", n)
		}
	}
	neg := strings.HasPrefix(mant, "-")
	mant = strings.TrimPrefix(mant, "-")
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := strings.TrimLeft(intPart+frac, "0")
	scale := max(len(frac)-exp, 0)
	// The value is digits × 10^(exp - len(frac)); place the point scale
	// digits from the right.
	shift := exp - len(frac)
	if shift > 0 {
		// Zero shifted is still zero: 0E2 is 0, not 00.
		digits = strings.TrimLeft(digits+strings.Repeat("0", shift), "0")
	}
	if digits == "" {
		digits = "0"
	}
	if len(digits) <= scale {
		digits = strings.Repeat("0", scale-len(digits)+1) + digits
	}
	out := digits
	if scale > 0 {
		out = digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
	}
	if neg && strings.Trim(out, "0.") != "" {
		out = "-" + out
	}
	return out, nil
}

func encodeJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("audit JSON: %w", err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// auditMACInput is what an event's MAC covers, given its body's hash.
func auditMACInput(chain string, chainSeq, seq int64, t time.Time, prevMAC []byte, bodyHash [32]byte) []byte {
	return fmt.Appendf(nil, "arrs audit event v2\n%s\n%d\n%d\n%d\n%s\n%s",
		chain, chainSeq, seq, t.UnixMicro(), hex.EncodeToString(prevMAC), hex.EncodeToString(bodyHash[:]))
}

// legacyHash is the hash events recorded before the chains were written
// with, computed here rather than by the database function they used, so a
// replaced function cannot hide an edit: SHA-256 of the predecessor's hash
// and jsonb_build_array(seq, µs, subject, role, organisation, rpc,
// request_id, resource, action, pcn_code, before, after) as jsonb prints it.
// before and after are jsonb's text of those documents.
func legacyHash(prev []byte, e AuditEvent) []byte {
	var b strings.Builder
	b.WriteString("[")
	b.WriteString(strconv.FormatInt(e.Seq, 10) + ", " + strconv.FormatInt(e.Time.UnixMicro(), 10))
	for _, s := range []string{e.Subject, e.Role, e.Organisation, e.RPC, e.RequestID, e.Resource, e.Action} {
		b.WriteString(", " + pgJSONString(s))
	}
	if e.PCNCode == "" {
		b.WriteString(", null")
	} else {
		b.WriteString(", " + pgJSONString(e.PCNCode))
	}
	for _, doc := range []json.RawMessage{e.Before, e.After} {
		if doc == nil {
			b.WriteString(", null")
		} else {
			b.WriteString(", " + string(doc))
		}
	}
	b.WriteString("]")
	h := sha256.New()
	h.Write(prev)
	h.Write([]byte(b.String()))
	return h.Sum(nil)
}

// pgJSONString quotes s as PostgreSQL's escape_json does.
func pgJSONString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 {
				fmt.Fprintf(&b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}
