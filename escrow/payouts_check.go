package escrow

import (
	"context"
	"fmt"
	"sort"

	"github.com/tradeassure/tradeassure/ledger"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/trade"
)

// payoutKey is a supplier's books in one currency.
type payoutKey struct {
	supplier string
	currency money.Currency
}

// payoutSums are what payouts moved for one supplier and currency.
type payoutSums struct{ sent, netted int64 }

// payoutLegs sums the payout transfers of the ledger per supplier and currency, and reports any
// that is not shaped as PlanPayout builds them: a payout debits the supplier's payable and
// credits a rail's clearing account; a netting debits the payable and credits the same
// supplier's receivable.
func (r *CheckReport) payoutLegs(all []ledger.Transfer) map[payoutKey]*payoutSums {
	legs := map[payoutKey]*payoutSums{}
	for _, t := range all {
		if t.Code != "payout" && t.Code != "payout_netting" {
			continue
		}
		want := ledger.RailClearing
		if t.Code == "payout_netting" {
			want = ledger.SupplierReceivable
		}
		var from, to *ledger.Entry
		for i := range t.Entries {
			switch e := &t.Entries[i]; {
			case e.Account.Kind == ledger.SupplierPayable && e.Amount > 0:
				from = e
			case e.Account.Kind == want && e.Amount < 0:
				to = e
			}
		}
		if len(t.Entries) != 2 || from == nil || to == nil ||
			want == ledger.SupplierReceivable && to.Account.Owner != from.Account.Owner {
			r.violate("payout_malformed", "transfer %s (%s) does not move a supplier's payable to %s", t.ID, t.Code, want)
			continue
		}
		k := payoutKey{from.Account.Owner, t.Currency}
		if legs[k] == nil {
			legs[k] = &payoutSums{}
		}
		if t.Code == "payout" {
			legs[k].sent += from.Amount
		} else {
			legs[k].netted += from.Amount
		}
	}
	return legs
}

// checkPayouts verifies the payouts against the ledger: each payout nets min(payable,
// receivable) and sends the rest; per supplier and currency the payouts' sent and netted sums
// equal the payout and netting transfers; and a supplier's receivable equals what the guarantee
// fund paid for its orders less what payouts netted (R14).
func (r *CheckReport) checkPayouts(ctx context.Context, rd Reader, b ledger.Balances, legs map[payoutKey]*payoutSums) error {
	pr, err := payoutReader(rd)
	if err != nil {
		return err
	}
	records := map[payoutKey]*payoutSums{}
	for before := ""; ; {
		page, err := pr.Payouts(ctx, PayoutFilter{Before: before, Limit: PageSizeMax})
		if err != nil {
			return fmt.Errorf("read payouts: %w", err)
		}
		for _, p := range page {
			before = p.ID
			r.checkPayout(p)
			k := payoutKey{p.SupplierID, p.Currency}
			if records[k] == nil {
				records[k] = &payoutSums{}
			}
			records[k].sent += p.Sent
			records[k].netted += p.Netted
		}
		if len(page) < PageSizeMax {
			break
		}
	}
	keys := map[payoutKey]bool{}
	for k := range legs {
		keys[k] = true
	}
	for k := range records {
		keys[k] = true
	}
	for _, k := range sortedKeys(keys) {
		l, p := legs[k], records[k]
		if l == nil {
			l = &payoutSums{}
		}
		if p == nil {
			p = &payoutSums{}
		}
		if *l != *p {
			r.violate("payout_ledger_mismatch", "supplier %s %s: payouts sent %d and netted %d, the ledger moved %d and %d",
				k.supplier, k.currency, p.sent, p.netted, l.sent, l.netted)
		}
	}
	return r.checkReceivables(ctx, rd, b, records)
}

func (r *CheckReport) checkPayout(p trade.Payout) {
	ok := p.Netted >= 0 && p.Sent >= 0 && p.Netted+p.Sent == p.PayableBefore &&
		p.Netted == min(p.PayableBefore, p.ReceivableBefore) && (p.Sent > 0) == (p.Status == trade.PayoutSent)
	if !ok {
		r.violate("payout_inconsistent", "payout %s: payable %d, receivable %d, netted %d, sent %d, %s",
			p.ID, p.PayableBefore, p.ReceivableBefore, p.Netted, p.Sent, p.Status)
	}
}

// checkReceivables compares each supplier's receivable with its orders' guaranteed refunds less
// the payouts' netting.
func (r *CheckReport) checkReceivables(ctx context.Context, rd Reader, b ledger.Balances, records map[payoutKey]*payoutSums) error {
	want := map[string]int64{} // by receivable account ID
	for k, p := range records {
		want[trade.ReceivableAccount(k.supplier, k.currency).ID()] -= p.netted
	}
	for after := ""; ; {
		page, err := rd.Orders(ctx, OrderFilter{After: after, Limit: PageSizeMax})
		if err != nil {
			return fmt.Errorf("read orders: %w", err)
		}
		for _, o := range page {
			after = o.ID
			if o.Money.Guaranteed != 0 {
				want[trade.ReceivableAccount(o.SupplierID, o.Currency).ID()] += o.Money.Guaranteed
			}
		}
		if len(page) < PageSizeMax {
			break
		}
	}
	for id := range b {
		if a, err := ledger.ParseAccountID(id); err == nil && a.Kind == ledger.SupplierReceivable {
			want[id] += 0 // a receivable no order or payout explains must be zero
		}
	}
	ids := make([]string, 0, len(want))
	for id := range want {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if got := ledger.Natural(ledger.SupplierReceivable, b[id]); got != want[id] {
			r.violate("receivable_mismatch", "%s is %d; guaranteed refunds less netting say %d", id, got, want[id])
		}
	}
	return nil
}

func sortedKeys(m map[payoutKey]bool) []payoutKey {
	out := make([]payoutKey, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].supplier != out[j].supplier {
			return out[i].supplier < out[j].supplier
		}
		return out[i].currency < out[j].currency
	})
	return out
}
