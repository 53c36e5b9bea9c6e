package escrow

import (
	"context"
	"fmt"
	"sort"

	"github.com/tradeassure/tradeassure/ledger"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/trade"
)

// OrgHistory returns an organization's recorded changes, oldest first: its creation and every
// eligibility decision (R1), coverage limit (R22) and release policy (R14). Admins only.
func (s *Service) OrgHistory(ctx context.Context, a trade.Actor, orgID string) ([]OrgChange, error) {
	if err := requireAdmin(a); err != nil {
		return nil, err
	}
	var out []OrgChange
	err := s.store.Read(ctx, func(r Reader) error {
		if _, err := r.Org(ctx, orgID); err != nil {
			return err
		}
		var err error
		out, err = r.OrgHistory(ctx, orgID)
		return err
	})
	return out, notFound(err, "organization")
}

// Balances returns the balance table, one line per account in the kind's natural sign, sorted
// by account ID. It reads the cached balances; CheckLedger compares them with the entries.
// Admins only.
func (s *Service) Balances(ctx context.Context, a trade.Actor) ([]AccountBalance, error) {
	if err := requireAdmin(a); err != nil {
		return nil, err
	}
	var b ledger.Balances
	err := s.store.Read(ctx, func(r Reader) error {
		var err error
		b, err = r.Balances(ctx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read balances: %w", err)
	}
	out := make([]AccountBalance, 0, len(b))
	for id, signed := range b {
		if acc, err := ledger.ParseAccountID(id); err == nil {
			out = append(out, AccountBalance{Account: id, Balance: ledger.Natural(acc.Kind, signed)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Account < out[j].Account })
	return out, nil
}

// Signed is the line's balance as debits minus credits: positive on the debit side of a trial
// balance, negative on the credit side. 0 for an account ID that does not parse.
func (b AccountBalance) Signed() int64 {
	acc, err := ledger.ParseAccountID(b.Account)
	if err != nil {
		return 0
	}
	return ledger.Natural(acc.Kind, b.Balance) // Natural is its own inverse
}

// CurrencyTotal is the foot of a trial balance in one currency: the debit balances and the
// credit balances, which are equal when the books balance.
type CurrencyTotal struct {
	Currency money.Currency `json:"currency"`
	Debits   int64          `json:"debits"`
	Credits  int64          `json:"credits"`
}

// Balanced reports whether debits equal credits.
func (t CurrencyTotal) Balanced() bool { return t.Debits == t.Credits }

// TrialTotals foots a trial balance per currency, sorted by currency. Lines whose account does
// not parse are left out (CheckLedger reports them as violations).
func TrialTotals(lines []AccountBalance) []CurrencyTotal {
	by := map[money.Currency]*CurrencyTotal{}
	var curs []money.Currency
	for _, l := range lines {
		acc, err := ledger.ParseAccountID(l.Account)
		if err != nil {
			continue
		}
		t, ok := by[acc.Currency]
		if !ok {
			t = &CurrencyTotal{Currency: acc.Currency}
			by[acc.Currency] = t
			curs = append(curs, acc.Currency)
		}
		if s := l.Signed(); s > 0 {
			t.Debits += s
		} else {
			t.Credits -= s
		}
	}
	sort.Slice(curs, func(i, j int) bool { return curs[i] < curs[j] })
	out := make([]CurrencyTotal, 0, len(curs))
	for _, c := range curs {
		out = append(out, *by[c])
	}
	return out
}

// VerifyChain checks one event stream read back in Seq order: sequence numbers run 1, 2, …
// without a gap, each event names its predecessor's hash, and each hash matches the event's
// content (ChainHash). It returns the broken links, first first; none when the chain is intact.
func VerifyChain(stream string, evs []Event) []ledger.Violation {
	var out []ledger.Violation
	v := func(rule, format string, args ...any) {
		out = append(out, ledger.Violation{Rule: rule, Detail: fmt.Sprintf(format, args...)})
	}
	prev := ""
	for i, e := range evs {
		switch {
		case e.Seq != int64(i+1):
			v("chain_gap", "stream %s: event %d has seq %d", stream, i+1, e.Seq)
		case e.PrevHash != prev:
			v("chain_broken", "stream %s seq %d: previous hash does not match", stream, e.Seq)
		case ChainHash(e) != e.Hash:
			v("chain_tampered", "stream %s seq %d: hash does not match its content", stream, e.Seq)
		}
		prev = e.Hash
	}
	return out
}
