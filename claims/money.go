package claims

import (
	"fmt"
	"strconv"
	"strings"
)

// Money for people.

// Pounds renders pence as pounds for people: 139401754 → "£1,394,017.54".
func Pounds(pence int64) string {
	sign := ""
	if pence < 0 {
		sign, pence = "-", -pence
	}
	whole := fmt.Sprint(pence / 100)
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return fmt.Sprintf("%s£%s.%02d", sign, b.String(), pence%100)
}

// ParsePounds reads an amount of money as people and payroll exports write
// it — "4400", "4400.5", "4,400.00", "£4,400.00" — into pence, exactly: at
// most two decimal places, not negative.
func ParsePounds(s string) (int64, error) {
	t := strings.ReplaceAll(strings.TrimPrefix(strings.TrimSpace(s), "£"), ",", "")
	whole, frac, hasFrac := strings.Cut(t, ".")
	if whole == "" || len(frac) > 2 || (hasFrac && frac == "") || strings.Trim(whole+frac, "0123456789") != "" || len(whole) > 12 {
		return 0, fmt.Errorf("%q is not an amount in pounds (like 4400.00)", s)
	}
	for len(frac) < 2 {
		frac += "0"
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not an amount in pounds: %w", s, err)
	}
	f, err := strconv.ParseInt(frac, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not an amount in pounds: %w", s, err)
	}
	return w*100 + f, nil
}
