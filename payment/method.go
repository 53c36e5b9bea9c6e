// Package payment is the catalog of payment methods (R9) and their effective-dated fee
// schedule (R10). It is pure: a quote is a function of the method, the amount and the date.
package payment

import (
	"slices"

	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/money"
)

// Method is a way for a buyer to pay the platform.
type Method string

// The methods of R9.
const (
	TTWire       Method = "tt_wire"       // international T/T (SWIFT wire)
	TTLocal      Method = "tt_local"      // local bank transfer in the US, Europe, Australia, Canada
	Card         Method = "card"          // credit or debit card
	WesternUnion Method = "western_union" // Western Union money transfer
	PayLater     Method = "pay_later"     // financed by a third-party lender (R11)
	OnlineBank   Method = "online_bank"   // online bank payment (ACH debit / e-Checking)
	Boleto       Method = "boleto"        // Boleto Bancário (Brazil)
)

// Collector says who takes a fee.
type Collector string

const (
	// CollectedByPlatform fees are added to what the buyer pays the platform and booked as revenue.
	CollectedByPlatform Collector = "platform"
	// CollectedByThirdParty fees are charged by banks or the remitter; shown, never collected.
	CollectedByThirdParty Collector = "third_party"
)

// MethodInfo describes a method: which currencies it accepts and its per-payment cap.
type MethodInfo struct {
	Method     Method
	Name       string
	Currencies []money.Currency // accepted currencies
	// MaxMinor caps one payment (amount plus collected fee), per currency; absent means no cap.
	MaxMinor map[money.Currency]int64
	// Arrival is how long funds take to be confirmed, for people.
	Arrival string
}

var usd, eur, gbp, aud, cad, brl = money.Currency("USD"), money.Currency("EUR"), money.Currency("GBP"),
	money.Currency("AUD"), money.Currency("CAD"), money.Currency("BRL")

// catalog holds the methods; figures are from shared/reference/rails.md §0, §4–§8.
var catalog = []MethodInfo{
	{Method: TTWire, Name: "T/T bank transfer (international wire)", Arrival: "3–7 working days",
		Currencies: []money.Currency{usd, "HKD", "CNY", aud, cad, "JPY", eur, gbp, "SGD"}},
	{Method: TTLocal, Name: "Local bank transfer (US, Europe, Australia, Canada)", Arrival: "within 48 hours",
		Currencies: []money.Currency{usd, eur, aud, cad}},
	{Method: Card, Name: "Credit or debit card", Arrival: "1–2 hours after review",
		Currencies: []money.Currency{usd, aud, cad, gbp}, MaxMinor: map[money.Currency]int64{usd: 12_000_00}},
	{Method: WesternUnion, Name: "Western Union", Arrival: "1–3 working days",
		Currencies: []money.Currency{usd}, MaxMinor: map[money.Currency]int64{usd: 5_000_00}},
	{Method: PayLater, Name: "Pay Later (line of credit)", Arrival: "1–3 working days after the loan agreement",
		Currencies: []money.Currency{usd}, MaxMinor: map[money.Currency]int64{usd: 150_000_00}},
	{Method: OnlineBank, Name: "Online bank payment", Arrival: "4–5 working days",
		Currencies: []money.Currency{usd}},
	{Method: Boleto, Name: "Boleto Bancário", Arrival: "1–5 working days",
		Currencies: []money.Currency{brl}, MaxMinor: map[money.Currency]int64{brl: 250_000_00}},
}

// Catalog returns every method, in display order.
func Catalog() []MethodInfo { return slices.Clone(catalog) }

// Info returns the description of m.
func Info(m Method) (MethodInfo, error) {
	for _, mi := range catalog {
		if mi.Method == m {
			return mi, nil
		}
	}
	return MethodInfo{}, fault.FieldErr("method", "unknown_payment_method", "unknown payment method %q", string(m))
}

// Accepts reports whether m takes payments in c.
func (mi MethodInfo) Accepts(c money.Currency) bool { return slices.Contains(mi.Currencies, c) }
