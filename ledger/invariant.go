package ledger

import (
	"fmt"
	"sort"

	"github.com/tradeassure/tradeassure/money"
)

// Natural turns a signed balance (debits minus credits) into the kind's natural sign: what a
// person reads as "the balance" of that account.
func Natural(k Kind, signed int64) int64 {
	if k.DebitNormal() {
		return signed
	}
	return -signed
}

// Balances are signed balances (debits minus credits) by account ID.
type Balances map[string]int64

// Apply adds t's entries to b and reports the accounts whose natural balance went below zero
// where that is not allowed. b is changed even when it returns an error.
func (b Balances) Apply(t Transfer) error {
	var bad []string
	for _, e := range t.Entries {
		id := e.Account.ID()
		b[id] += e.Amount
		if !e.Account.Kind.MayGoNegative() && Natural(e.Account.Kind, b[id]) < 0 {
			bad = append(bad, id)
		}
	}
	if len(bad) > 0 {
		return &NegativeError{Accounts: bad}
	}
	return nil
}

// NegativeError says a transfer would take accounts below zero.
type NegativeError struct{ Accounts []string }

func (e *NegativeError) Error() string {
	return fmt.Sprintf("insufficient balance on %v", e.Accounts)
}

// Violation is one broken invariant.
type Violation struct {
	Rule   string // "transfer_unbalanced", "currency_unbalanced", "negative_balance", ...
	Detail string
}

func (v Violation) String() string { return v.Rule + ": " + v.Detail }

// CheckBalances verifies the invariants that hold over all balances: every currency sums to
// zero, and no account that must not go negative has.
func CheckBalances(b Balances) []Violation {
	var out []Violation
	perCurrency := map[money.Currency]int64{}
	ids := make([]string, 0, len(b))
	for id := range b {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		a, err := ParseAccountID(id)
		if err != nil {
			out = append(out, Violation{"bad_account", err.Error()})
			continue
		}
		perCurrency[a.Currency] += b[id]
		if !a.Kind.MayGoNegative() && Natural(a.Kind, b[id]) < 0 {
			out = append(out, Violation{"negative_balance", fmt.Sprintf("%s is %d", id, Natural(a.Kind, b[id]))})
		}
	}
	curs := make([]string, 0, len(perCurrency))
	for c := range perCurrency {
		curs = append(curs, string(c))
	}
	sort.Strings(curs)
	for _, c := range curs {
		if s := perCurrency[money.Currency(c)]; s != 0 {
			out = append(out, Violation{"currency_unbalanced", fmt.Sprintf("%s balances sum to %d", c, s)})
		}
	}
	return out
}

// CheckTransfers verifies each transfer read back from storage and returns the balances they
// add up to, so a stored balance cache can be compared with them.
func CheckTransfers(ts []Transfer) (Balances, []Violation) {
	b := Balances{}
	var out []Violation
	seen := map[string]bool{}
	for _, t := range ts {
		if seen[t.ID] {
			out = append(out, Violation{"duplicate_transfer", t.ID})
		}
		seen[t.ID] = true
		if err := t.Validate(); err != nil {
			out = append(out, Violation{"transfer_unbalanced", err.Error()})
		}
		for _, e := range t.Entries {
			b[e.Account.ID()] += e.Amount
		}
	}
	return b, out
}
