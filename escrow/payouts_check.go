package escrow

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/tradeassure/tradeassure/ledger"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/trade"
)

// The ledger check of payouts (docs/payouts.md): every payout transfer belongs to exactly one
// payout and is shaped as its state says; each rail's in-transit balance is the payouts still
// requested on it; each supplier's receivable is its guaranteed refunds less what payouts netted.

// payoutCodes are the transfer codes a payout posts.
var payoutCodes = []string{trade.CodePayoutNetting, trade.CodePayoutRequested, trade.CodePayoutSent, trade.CodePayoutReturned}

// payoutTransfers indexes the ledger's payout transfers by ID.
func payoutTransfers(all []ledger.Transfer) map[string]ledger.Transfer {
	out := map[string]ledger.Transfer{}
	for _, t := range all {
		for _, c := range payoutCodes {
			if t.Code == c {
				out[t.ID] = t
			}
		}
	}
	return out
}

// transitKey is a rail's in-transit account in one currency.
type transitKey struct {
	rail     string
	currency money.Currency
}

// payoutLeg is one transfer a payout in its state must have: its code, the account it debits
// and the one it credits, and the amount.
type payoutLeg struct {
	id, code      string
	debit, credit ledger.Account
	amount        int64
}

// wantLegs lists the transfers p must have posted, in order. A payout booked before payouts had
// a lifecycle (migration 00017) sent at once: its one payout transfer leaves the payable
// straight for the rail, with no request before it.
func wantLegs(p trade.Payout, legacy bool) []payoutLeg {
	c, rail := p.Currency, p.Rail()
	pay := trade.PayableAccount(p.SupplierID, c)
	transit, clearing := trade.InTransitAccount(rail, c), trade.ClearingAccount(rail, c)
	id := func(suffix string) string { return "tr_" + p.ID + "_" + suffix }
	var out []payoutLeg
	if p.Netted > 0 {
		out = append(out, payoutLeg{id("net"), trade.CodePayoutNetting, pay, trade.ReceivableAccount(p.SupplierID, c), p.Netted})
	}
	if p.Sent == 0 {
		return out
	}
	sent := legacy || p.Status == trade.PayoutSent || p.Status == trade.PayoutReturned && p.SentAt != nil
	switch {
	case legacy:
		out = append(out, payoutLeg{id("send"), trade.CodePayoutSent, pay, clearing, p.Sent})
	case sent:
		out = append(out, payoutLeg{id("req"), trade.CodePayoutRequested, pay, transit, p.Sent},
			payoutLeg{id("sent"), trade.CodePayoutSent, transit, clearing, p.Sent})
	default:
		out = append(out, payoutLeg{id("req"), trade.CodePayoutRequested, pay, transit, p.Sent})
	}
	switch {
	case p.Status == trade.PayoutReturned && sent:
		out = append(out, payoutLeg{id("ret"), trade.CodePayoutReturned, clearing, pay, p.Sent})
	case p.Status == trade.PayoutReturned:
		out = append(out, payoutLeg{id("ret"), trade.CodePayoutReturned, transit, pay, p.Sent})
	}
	return out
}

// matches reports whether t is exactly leg: its code, two entries debiting and crediting the
// leg's accounts by its amount.
func (leg payoutLeg) matches(t ledger.Transfer) bool {
	if t.Code != leg.code || len(t.Entries) != 2 {
		return false
	}
	want := map[string]int64{leg.debit.ID(): leg.amount, leg.credit.ID(): -leg.amount}
	for _, e := range t.Entries {
		if want[e.Account.ID()] != e.Amount {
			return false
		}
		delete(want, e.Account.ID())
	}
	return len(want) == 0
}

// checkPayouts verifies the payouts against the ledger: each payout nets min(payable,
// receivable) and sends the rest, its status agrees with its answer, and it has exactly the
// transfers its state says (payout_inconsistent, payout_malformed); no payout transfer belongs
// to no payout (payout_ledger_mismatch); each rail's in-transit balance equals the payouts
// requested on it (payout_in_transit_mismatch); and a supplier's receivable equals what the
// guarantee fund paid for its orders less what payouts netted (R14).
func (r *CheckReport) checkPayouts(ctx context.Context, rd Reader, b ledger.Balances, legs map[string]ledger.Transfer) error {
	pr, err := payoutReader(rd)
	if err != nil {
		return err
	}
	netted := map[string]int64{} // by receivable account ID
	transit := map[transitKey]int64{}
	claimed := map[string]bool{}
	for before := ""; ; {
		page, err := pr.Payouts(ctx, PayoutFilter{Before: before, Limit: PageSizeMax})
		if err != nil {
			return fmt.Errorf("read payouts: %w", err)
		}
		for _, p := range page {
			before = p.ID
			r.checkPayout(p)
			r.checkPayoutLegs(p, legs, claimed)
			netted[trade.ReceivableAccount(p.SupplierID, p.Currency).ID()] += p.Netted
			if p.Status == trade.PayoutRequested {
				transit[transitKey{p.Rail(), p.Currency}] += p.Sent
			}
		}
		if len(page) < PageSizeMax {
			break
		}
	}
	ids := make([]string, 0, len(legs))
	for id := range legs {
		if !claimed[id] {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	for _, id := range ids {
		r.violate("payout_ledger_mismatch", "transfer %s (%s) belongs to no payout", id, legs[id].Code)
	}
	r.checkInTransit(b, transit)
	return r.checkReceivables(ctx, rd, b, netted)
}

// checkPayout verifies a payout's own numbers and its answer against its status.
func (r *CheckReport) checkPayout(p trade.Payout) {
	ok := p.Netted >= 0 && p.Sent >= 0 && p.Netted+p.Sent == p.PayableBefore &&
		p.Netted == min(p.PayableBefore, p.ReceivableBefore) && (p.Sent == 0) == (p.Status == trade.PayoutNetted)
	switch p.Status {
	case trade.PayoutRequested:
		ok = ok && p.SentAt == nil && p.ReturnedAt == nil
	case trade.PayoutSent:
		ok = ok && p.ReturnedAt == nil && (p.SentAt != nil) == (p.BankReference != "")
	case trade.PayoutReturned:
		ok = ok && p.ReturnedAt != nil && p.ReturnReason != ""
	case trade.PayoutNetted:
	default:
		ok = false
	}
	if !ok {
		r.violate("payout_inconsistent", "payout %s: payable %d, receivable %d, netted %d, sent %d, %s",
			p.ID, p.PayableBefore, p.ReceivableBefore, p.Netted, p.Sent, p.Status)
	}
}

// checkPayoutLegs verifies that the payout has exactly the transfers its state says, and marks
// them claimed: a sent payout has exactly its transfer to the rail, a returned one the transfer
// that restored the supplier's payable.
func (r *CheckReport) checkPayoutLegs(p trade.Payout, legs map[string]ledger.Transfer, claimed map[string]bool) {
	send, legacy := legs["tr_"+p.ID+"_send"]
	legacy = legacy && send.Code == trade.CodePayoutSent
	want := wantLegs(p, legacy)
	var got []string
	for _, leg := range want {
		t, ok := legs[leg.id]
		if !ok || !leg.matches(t) {
			r.violate("payout_malformed", "payout %s (%s): transfer %s is missing or does not move %d from %s to %s as %s",
				p.ID, p.Status, leg.id, leg.amount, leg.debit, leg.credit, leg.code)
		}
		got = append(got, leg.id)
		claimed[leg.id] = true
	}
	// Any other transfer named after this payout is one its state does not explain.
	for _, suffix := range []string{"net", "send", "req", "sent", "ret"} {
		id := "tr_" + p.ID + "_" + suffix
		if _, ok := legs[id]; ok && !slices.Contains(got, id) {
			r.violate("payout_malformed", "payout %s (%s) has transfer %s, which its state does not explain", p.ID, p.Status, id)
			claimed[id] = true
		}
	}
	if !slices.Equal(p.TransferIDs, got) {
		r.violate("payout_inconsistent", "payout %s lists transfers %s; its state says %s", p.ID,
			strings.Join(p.TransferIDs, ","), strings.Join(got, ","))
	}
}

// checkInTransit compares each rail's in-transit balance with the payouts requested on it.
func (r *CheckReport) checkInTransit(b ledger.Balances, want map[transitKey]int64) {
	got := map[transitKey]int64{}
	for id, signed := range b {
		if a, err := ledger.ParseAccountID(id); err == nil && a.Kind == ledger.PayoutsInTransit {
			got[transitKey{a.Owner, a.Currency}] = ledger.Natural(a.Kind, signed)
		}
	}
	keys := map[transitKey]bool{}
	for k := range got {
		keys[k] = true
	}
	for k := range want {
		keys[k] = true
	}
	sorted := make([]transitKey, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Slice(sorted, func(i, j int) bool {
		if sorted[i].rail != sorted[j].rail {
			return sorted[i].rail < sorted[j].rail
		}
		return sorted[i].currency < sorted[j].currency
	})
	for _, k := range sorted {
		if got[k] != want[k] {
			r.violate("payout_in_transit_mismatch", "%s is %d; the payouts requested on it send %d",
				trade.InTransitAccount(k.rail, k.currency), got[k], want[k])
		}
	}
}

// checkReceivables compares each supplier's receivable with its orders' guaranteed refunds less
// the payouts' netting (netted, by receivable account ID).
func (r *CheckReport) checkReceivables(ctx context.Context, rd Reader, b ledger.Balances, netted map[string]int64) error {
	want := map[string]int64{} // by receivable account ID
	for id, n := range netted {
		want[id] -= n
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
