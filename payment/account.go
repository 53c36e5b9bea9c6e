package payment

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/money"
)

// Limits of the collection-account configuration.
const (
	AccountsMax    = 100 // accounts one platform configures
	AccountTextMax = 200 // characters of one field of an account
)

// CollectionAccount is one of the platform's accounts where a buyer sends a payment by one
// method in one currency. Protection covers only money paid to the platform's designated
// accounts (R8), so the payment instructions name the account beside the amount and the
// reference to quote (rails.md §2.1, §3.1, §3.4).
type CollectionAccount struct {
	Method   Method         `json:"method"`
	Currency money.Currency `json:"currency"`
	// Beneficiary is whom the buyer pays: the account holder, or Western Union's receiver.
	Beneficiary string `json:"beneficiary" doc:"Whom the buyer pays: the account holder, or the Western Union receiver."`
	// Bank is the bank's name and address (or the remitter's name).
	Bank string `json:"bank,omitempty" doc:"The bank's name and address."`
	// BIC is the bank's SWIFT BIC, which an international wire needs.
	BIC string `json:"bic,omitempty" doc:"The bank's SWIFT BIC (international wires)."`
	// Number is the account number or IBAN.
	Number string `json:"account_number,omitempty" doc:"The account number or IBAN."`
	// RoutingCode is the local bank code: ABA routing number, sort code, BSB, institution and transit.
	RoutingCode string `json:"routing_code,omitempty" doc:"ABA routing number, sort code, BSB, or institution and transit number."`
	// URL is the page where the buyer pays by card, online bank payment or boleto.
	URL string `json:"url,omitempty" doc:"The page where the buyer pays (card, online bank payment, boleto)."`
	// Note is anything else the buyer must know, e.g. the receiver's city for Western Union.
	Note string `json:"note,omitempty" doc:"Anything else the buyer must know to pay."`
	// Sandbox marks the sandbox rail's own account: no real account, no real money.
	Sandbox bool `json:"sandbox,omitempty" doc:"The sandbox rail's own account: payments to it are simulated, no real money moves."`
}

// CollectionAccounts is the platform's set of collection accounts: at most one per method and
// currency.
type CollectionAccounts []CollectionAccount

// For returns the account for m in c.
func (as CollectionAccounts) For(m Method, c money.Currency) (CollectionAccount, bool) {
	for _, a := range as {
		if a.Method == m && a.Currency == c {
			return a, true
		}
	}
	return CollectionAccount{}, false
}

// Validate checks that every account is complete for its method, in a currency the method
// takes, once per method and currency, and within the limits.
func (as CollectionAccounts) Validate() error {
	if len(as) > AccountsMax {
		return fault.FieldErr("accounts", "too_many_accounts", "at most %d collection accounts, not %d", AccountsMax, len(as))
	}
	seen := map[string]bool{}
	for i, a := range as {
		if err := a.validate(); err != nil {
			return fmt.Errorf("account %d (%s %s): %w", i+1, a.Method, a.Currency, err)
		}
		k := string(a.Method) + " " + string(a.Currency)
		if seen[k] {
			return fault.FieldErr("accounts", "duplicate_account", "account %d: a second account for %s", i+1, k)
		}
		seen[k] = true
	}
	return nil
}

func (a CollectionAccount) validate() error {
	info, err := Info(a.Method)
	if err != nil {
		return err
	}
	if a.Method == PayLater {
		return fault.FieldErr("method", "account_not_needed", "the lender pays Pay Later into escrow: it has no collection account")
	}
	if !info.Accepts(a.Currency) {
		return fault.FieldErr("currency", "method_currency_unsupported", "%s does not accept %q", info.Name, a.Currency)
	}
	if a.Sandbox {
		return fault.FieldErr("sandbox", "sandbox_account", "a configured account is a real one: the sandbox names its own")
	}
	for _, f := range [][2]string{{"beneficiary", a.Beneficiary}, {"bank", a.Bank}, {"bic", a.BIC},
		{"account_number", a.Number}, {"routing_code", a.RoutingCode}, {"url", a.URL}, {"note", a.Note}} {
		if len(f[1]) > AccountTextMax || strings.ContainsAny(f[1], "\r\n") {
			return fault.FieldErr(f[0], "invalid_account", "%s: one line of at most %d characters", f[0], AccountTextMax)
		}
	}
	missing := func(field, what string) error {
		return fault.FieldErr(field, "account_incomplete", "%s needs %s", info.Name, what)
	}
	if strings.TrimSpace(a.Beneficiary) == "" {
		return missing("beneficiary", "the beneficiary the buyer pays")
	}
	switch a.Method {
	case TTWire:
		if a.Bank == "" || a.BIC == "" || a.Number == "" {
			return missing("bic", "the bank, its SWIFT BIC and the account number or IBAN")
		}
	case TTLocal:
		if a.Bank == "" || a.Number == "" {
			return missing("account_number", "the bank and the account number or IBAN")
		}
	case WesternUnion:
		if a.Note == "" {
			return missing("note", "where the receiver collects the money (city and country)")
		}
	default: // card, online bank payment, boleto: paid on a page of the platform's processor
		if a.URL == "" {
			return missing("url", "the page where the buyer pays")
		}
	}
	if a.URL != "" {
		u, err := url.Parse(a.URL)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return fault.FieldErr("url", "invalid_account", "url must be an https:// address")
		}
	}
	return nil
}
