package claims

import (
	"database/sql/driver"
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// Decimal is an exact fixed-point number with four decimal places, stored as
// a count of ten-thousandths. WTE ("0.6"), weighted populations and the rate
// per weighted patient ("26.631") are Decimals: floating point would make
// money sums depend on evaluation order.
type Decimal int64

// DecimalScale is the number of Decimal units in one.
const DecimalScale = 10000

const decimalPlaces = 4

// ParseDecimal reads a plain decimal such as "0.6", "1", "52345.6789". It
// rejects signs other than a leading '-', exponents, more than four decimal
// places and values that do not fit.
func ParseDecimal(s string) (Decimal, error) {
	orig := s
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	whole, frac, hasPoint := strings.Cut(s, ".")
	if whole == "" || (hasPoint && frac == "") || len(frac) > decimalPlaces || !digits(whole) || !digits(frac) {
		return 0, fmt.Errorf("%q is not a decimal number with at most %d decimal places", orig, decimalPlaces)
	}
	frac += strings.Repeat("0", decimalPlaces-len(frac))
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > (1<<63-1)/DecimalScale-1 {
		return 0, fmt.Errorf("%q is too large", orig)
	}
	f, _ := strconv.ParseInt(frac, 10, 64)
	d := Decimal(w*DecimalScale + f)
	if neg {
		d = -d
	}
	return d, nil
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// String returns the shortest exact form: "0.6", "26.631", "1".
func (d Decimal) String() string {
	sign := ""
	v := int64(d)
	if v < 0 {
		sign, v = "-", -v
	}
	whole, frac := v/DecimalScale, v%DecimalScale
	if frac == 0 {
		return sign + strconv.FormatInt(whole, 10)
	}
	fs := strings.TrimRight(fmt.Sprintf("%04d", frac), "0")
	return sign + strconv.FormatInt(whole, 10) + "." + fs
}

// MulRound returns d × e rounded half away from zero to a whole number of
// 1/scale units; for example rate × population in pounds rounded to pence is
// MulRound(rate, population, 100). big.Int keeps the product exact.
func MulRound(d, e Decimal, scale int64) int64 {
	p := new(big.Int).Mul(big.NewInt(int64(d)), big.NewInt(int64(e)))
	p.Mul(p, big.NewInt(scale))
	den := big.NewInt(DecimalScale * DecimalScale)
	q, r := new(big.Int).QuoRem(p, den, new(big.Int))
	r.Abs(r).Mul(r, big.NewInt(2))
	if r.Cmp(den) >= 0 {
		if p.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	return q.Int64()
}

// Scan reads a PostgreSQL numeric.
func (d *Decimal) Scan(src any) error {
	if v, ok := src.(int64); ok {
		*d = Decimal(v * DecimalScale)
		return nil
	}
	s, err := scanText(src, "Decimal")
	if err != nil {
		return err
	}
	// numeric(p,4) columns print trailing zeros, which ParseDecimal accepts.
	v, err := ParseDecimal(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// scanText reads a text column, which the driver hands over as bytes or a
// string, for the Scan methods of types stored as text.
func scanText(src any, into string) (string, error) {
	switch v := src.(type) {
	case []byte:
		return string(v), nil
	case string:
		return v, nil
	}
	return "", fmt.Errorf("cannot scan %T into %s", src, into)
}

// Value writes the decimal as text, which PostgreSQL casts exactly.
func (d Decimal) Value() (driver.Value, error) { return d.String(), nil }

// MarshalJSON writes the exact decimal as a string, never a float.
func (d Decimal) MarshalJSON() ([]byte, error) { return []byte(`"` + d.String() + `"`), nil }

// checkWTE holds the rule for a whole-time equivalent, wherever one is
// given (a post, a claim line, a cap): more than 0 and at most 1.
func checkWTE(vs *Violations, field string, wte Decimal) {
	if wte <= 0 || wte > DecimalScale {
		vs.Add(field, "WTE_RANGE", "whole-time equivalent must be more than 0 and at most 1, not %s", wte)
	}
}
