package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/tradeassure/tradeassure/money"
)

// AmountMinorMax bounds the minor units of an amount in a request: the largest integer every
// JSON parser reads exactly (2^53 − 1), far above any trade's value. money.Amount itself takes
// up to math.MaxInt64; the API refuses more than this with the field named, before decoding.
const AmountMinorMax = 1<<53 - 1

// amountType is money.Amount, whose JSON is {"minor":123456,"currency":"USD"}.
var amountType = reflect.TypeFor[money.Amount]()

// registerAmountSchema describes money.Amount as its JSON is: lower-case keys, minor an integer
// within ±AmountMinorMax, currency three capital letters. Generated from the Go struct the schema
// would name the fields Minor and Currency, which money's strict decoder refuses. It runs before
// any operation is registered, so every operation refers to this schema.
func registerAmountSchema(a huma.API) {
	reg := a.OpenAPI().Components.Schemas
	reg.Schema(amountType, true, "")
	s := reg.Map()[amountType.Name()]
	var max, min float64 = AmountMinorMax, -AmountMinorMax
	*s = huma.Schema{Type: huma.TypeObject, AdditionalProperties: false, Required: []string{"minor", "currency"},
		Description: "An amount of money: integer minor units (cents) of an ISO 4217 currency.",
		Properties: map[string]*huma.Schema{
			"minor": {Type: huma.TypeInteger, Format: "int64", Minimum: &min, Maximum: &max,
				Description: "Minor units, e.g. 123456 for USD 1,234.56."},
			"currency": {Type: huma.TypeString, Pattern: "^[A-Z]{3}$", Description: "An ISO 4217 code, e.g. USD."},
		}}
	s.PrecomputeMessages()
}

// jsonFormat is huma's JSON format with an Unmarshal that names the field at fault when a
// money.Amount in the body does not decode (an unknown currency): huma reports every decoding
// error at "body", so the error carries its location as a prefix that install moves into the
// problem's errors[].location.
func jsonFormat() huma.Format {
	f := huma.DefaultJSONFormat
	f.Unmarshal = func(data []byte, v any) error {
		err := json.Unmarshal(data, v)
		if err == nil || !isAmountError(err) {
			return err
		}
		var raw any
		if json.Unmarshal(data, &raw) != nil {
			return err
		}
		if loc, msg := amountFault(reflect.TypeOf(v), raw, "body"); loc != "" {
			return fmt.Errorf("%s%s: %s", locationMark, loc, msg)
		}
		return err
	}
	return f
}

// locationMark starts a decoding error's message that names its location (see jsonFormat).
const locationMark = "at "

func isAmountError(err error) bool {
	return errors.Is(err, money.ErrUnknownCurrency) || errors.Is(err, money.ErrOverflow) || errors.Is(err, money.ErrInvalidAmount)
}

// amountFault walks the generic JSON raw alongside the Go type t and returns the location of the
// first money.Amount that does not decode (its minor or currency field when the error is about
// one), with the decoder's message; "" when every amount decodes.
func amountFault(t reflect.Type, raw any, path string) (loc, msg string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == amountType {
		b, _ := json.Marshal(raw)
		var a money.Amount
		err := json.Unmarshal(b, &a)
		switch {
		case err == nil:
			return "", ""
		case errors.Is(err, money.ErrUnknownCurrency):
			return path + ".currency", err.Error()
		case errors.Is(err, money.ErrOverflow):
			return path + ".minor", err.Error()
		}
		return path, err.Error()
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, _ := raw.(map[string]any)
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" || !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			v, ok := lookupKey(obj, name)
			if !ok {
				continue
			}
			if loc, msg := amountFault(f.Type, v, path+"."+name); loc != "" {
				return loc, msg
			}
		}
	case reflect.Slice, reflect.Array:
		arr, _ := raw.([]any)
		for i, v := range arr {
			if loc, msg := amountFault(t.Elem(), v, fmt.Sprintf("%s[%d]", path, i)); loc != "" {
				return loc, msg
			}
		}
	}
	return "", ""
}

// lookupKey finds a field's value as encoding/json does: the exact key, else one that matches
// case-insensitively.
func lookupKey(obj map[string]any, name string) (any, bool) {
	if v, ok := obj[name]; ok {
		return v, true
	}
	for k, v := range obj {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return nil, false
}
