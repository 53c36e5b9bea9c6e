package money

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
)

// MarshalJSON writes a as {"minor":123456,"currency":"USD"}: minor units as
// a JSON integer, never a float. An unknown currency is an error, so that
// nothing is written that UnmarshalJSON would refuse.
func (a Amount) MarshalJSON() ([]byte, error) {
	if !a.Currency.Valid() {
		return nil, fmt.Errorf("marshal amount: currency %s: %w", quote(string(a.Currency)), ErrUnknownCurrency)
	}
	b := make([]byte, 0, 48)
	b = append(b, `{"minor":`...)
	b = strconv.AppendInt(b, a.Minor, 10)
	b = append(b, `,"currency":"`...)
	b = append(b, a.Currency...) // three upper-case letters: nothing to escape.
	b = append(b, `"}`...)
	return b, nil
}

// UnmarshalJSON reads {"minor":123456,"currency":"USD"} strictly: both keys
// exactly once and in this spelling, no other keys, minor an integer within
// ±math.MaxInt64, currency a known code. A JSON null is refused too; an
// optional amount is a *Amount. Errors wrap ErrInvalidAmount, ErrOverflow or
// ErrUnknownCurrency. On error a is left unchanged.
func (a *Amount) UnmarshalJSON(data []byte) error {
	parsed, err := decodeAmount(data)
	if err != nil {
		return fmt.Errorf("unmarshal amount: %w", err)
	}
	*a = parsed
	return nil
}

// decodeAmount walks the tokens of one JSON object; a struct decode would
// accept case-insensitive keys, duplicates and floats such as 1.0.
func decodeAmount(data []byte) (Amount, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return Amount{}, fmt.Errorf("want a JSON object: %w", ErrInvalidAmount)
	}
	var (
		minor              int64
		currency           Currency
		seenMinor, seenCcy bool
	)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return Amount{}, fmt.Errorf("%v: %w", err, ErrInvalidAmount)
		}
		key, _ := tok.(string) // object keys are always strings
		switch {
		case key == "minor" && !seenMinor:
			seenMinor = true
			if minor, err = decodeMinor(dec); err != nil {
				return Amount{}, err
			}
		case key == "currency" && !seenCcy:
			seenCcy = true
			if currency, err = decodeCurrency(dec); err != nil {
				return Amount{}, err
			}
		case key == "minor" || key == "currency":
			return Amount{}, fmt.Errorf("duplicate key %q: %w", key, ErrInvalidAmount)
		default:
			return Amount{}, fmt.Errorf("unknown key %s: %w", quote(key), ErrInvalidAmount)
		}
	}
	if !seenMinor || !seenCcy {
		return Amount{}, fmt.Errorf(`want keys "minor" and "currency": %w`, ErrInvalidAmount)
	}
	// encoding/json hands UnmarshalJSON exactly one valid value, so the
	// closing brace follows and nothing after it.
	return Amount{Minor: minor, Currency: currency}, nil
}

// decodeMinor reads the value of "minor": a JSON integer, no fraction or
// exponent, within ±math.MaxInt64.
func decodeMinor(dec *json.Decoder) (int64, error) {
	tok, err := dec.Token()
	if err != nil {
		return 0, fmt.Errorf("minor: %v: %w", err, ErrInvalidAmount)
	}
	num, ok := tok.(json.Number)
	if !ok {
		return 0, fmt.Errorf("minor: want an integer, got %T: %w", tok, ErrInvalidAmount)
	}
	minor, err := strconv.ParseInt(string(num), 10, 64)
	if errors.Is(err, strconv.ErrRange) || minor == math.MinInt64 {
		return 0, fmt.Errorf("minor %s: %w", quote(string(num)), ErrOverflow)
	}
	if err != nil {
		return 0, fmt.Errorf("minor %s: want an integer: %w", quote(string(num)), ErrInvalidAmount)
	}
	return minor, nil
}

// decodeCurrency reads the value of "currency": a known ISO 4217 code.
func decodeCurrency(dec *json.Decoder) (Currency, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", fmt.Errorf("currency: %v: %w", err, ErrInvalidAmount)
	}
	s, ok := tok.(string)
	if !ok {
		return "", fmt.Errorf("currency: want a string, got %T: %w", tok, ErrInvalidAmount)
	}
	return ParseCurrency(s)
}
