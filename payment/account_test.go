package payment_test

import (
	"strings"
	"testing"

	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/payment"
)

// TestCollectionAccountsValidate ensures a collection account is refused, with a reason, unless
// it gives a buyer everything the method needs to pay the platform (R8): a wire the bank, BIC
// and account; a local transfer the bank and account; Western Union where to collect; a card,
// online bank payment or boleto an https page. One account per method and currency, in a
// currency the method takes, never Pay Later (the lender pays), never marked sandbox, within
// the named limits.
func TestCollectionAccountsValidate(t *testing.T) {
	wire := payment.CollectionAccount{Method: payment.TTWire, Currency: "USD", Beneficiary: "TA Collections Ltd",
		Bank: "Citibank N.A., New York", BIC: "CITIUS33", Number: "9912345678"}
	with := func(f func(a *payment.CollectionAccount)) payment.CollectionAccounts {
		a := wire
		f(&a)
		return payment.CollectionAccounts{a}
	}
	tests := []struct {
		name     string
		accounts payment.CollectionAccounts
		reason   string // "" means valid
	}{
		{"none", nil, ""},
		{"wire", payment.CollectionAccounts{wire}, ""},
		{"local transfer", with(func(a *payment.CollectionAccount) {
			a.Method, a.Currency, a.BIC, a.Number = payment.TTLocal, "EUR", "", "DE89370400440532013000"
		}), ""},
		{"western union", with(func(a *payment.CollectionAccount) {
			a.Method, a.Bank, a.BIC, a.Number, a.Note = payment.WesternUnion, "", "", "", "Receiver in Hong Kong, HK"
		}), ""},
		{"card", with(func(a *payment.CollectionAccount) {
			a.Method, a.Bank, a.BIC, a.Number, a.URL = payment.Card, "", "", "", "https://pay.example.com/card"
		}), ""},
		{"wire without BIC", with(func(a *payment.CollectionAccount) { a.BIC = "" }), "account_incomplete"},
		{"wire without account", with(func(a *payment.CollectionAccount) { a.Number = "" }), "account_incomplete"},
		{"no beneficiary", with(func(a *payment.CollectionAccount) { a.Beneficiary = " " }), "account_incomplete"},
		{"local without bank", with(func(a *payment.CollectionAccount) { a.Method, a.Bank = payment.TTLocal, "" }), "account_incomplete"},
		{"western union without where", with(func(a *payment.CollectionAccount) { a.Method = payment.WesternUnion }), "account_incomplete"},
		{"card without page", with(func(a *payment.CollectionAccount) { a.Method = payment.Card }), "account_incomplete"},
		{"page not https", with(func(a *payment.CollectionAccount) {
			a.Method, a.URL = payment.OnlineBank, "http://pay.example.com/"
		}), "invalid_account"},
		{"page is script", with(func(a *payment.CollectionAccount) {
			a.Method, a.URL = payment.Card, "javascript:alert(1)"
		}), "invalid_account"},
		{"pay later", with(func(a *payment.CollectionAccount) { a.Method = payment.PayLater }), "account_not_needed"},
		{"unknown method", with(func(a *payment.CollectionAccount) { a.Method = "cheque" }), "unknown_payment_method"},
		{"currency the method does not take", with(func(a *payment.CollectionAccount) {
			a.Method, a.Currency = payment.Boleto, "USD"
		}), "method_currency_unsupported"},
		{"marked sandbox", with(func(a *payment.CollectionAccount) { a.Sandbox = true }), "sandbox_account"},
		{"field too long", with(func(a *payment.CollectionAccount) {
			a.Bank = strings.Repeat("b", payment.AccountTextMax+1)
		}), "invalid_account"},
		{"two lines", with(func(a *payment.CollectionAccount) { a.Beneficiary = "TA\nEvil" }), "invalid_account"},
		{"duplicate", payment.CollectionAccounts{wire, wire}, "duplicate_account"},
		{"too many", make(payment.CollectionAccounts, payment.AccountsMax+1), "too_many_accounts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.accounts.Validate()
			if got := fault.ReasonOf(err); got != tt.reason {
				t.Errorf("Validate: %v, want reason %q", err, tt.reason)
			}
		})
	}
}

// TestCollectionAccountsFor ensures the account for a method is the one in the order's
// currency, and that no account is found for a pair not configured.
func TestCollectionAccountsFor(t *testing.T) {
	as := payment.CollectionAccounts{
		{Method: payment.TTWire, Currency: "USD", Number: "usd"},
		{Method: payment.TTWire, Currency: "EUR", Number: "eur"},
	}
	if a, ok := as.For(payment.TTWire, "EUR"); !ok || a.Number != "eur" {
		t.Errorf("For(tt_wire, EUR) = %+v, %v", a, ok)
	}
	if _, ok := as.For(payment.Card, "USD"); ok {
		t.Error("For(card, USD) found an account none configured")
	}
}
