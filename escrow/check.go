package escrow

import (
	"context"
	"fmt"
	"sort"

	"github.com/tradeassure/tradeassure/ledger"
	"github.com/tradeassure/tradeassure/trade"
)

// CheckReport is what `tradeassure ledger check` prints.
type CheckReport struct {
	Transfers  int                `json:"transfers"`
	Accounts   int                `json:"accounts"`
	Orders     int                `json:"orders"`
	Streams    int                `json:"streams"`
	Events     int                `json:"events"`
	Trial      []AccountBalance   `json:"trial_balance"`
	Violations []ledger.Violation `json:"violations"`

	payouts map[string]ledger.Transfer // the payout transfers by ID, for checkPayouts
}

// AccountBalance is one line of the trial balance, in the kind's natural sign.
type AccountBalance struct {
	Account string `json:"account"`
	Balance int64  `json:"balance"`
}

// OK reports whether every invariant holds.
func (r CheckReport) OK() bool { return len(r.Violations) == 0 }

// CheckLedger verifies every invariant of SPEC "Money" and every audit hash chain, on one
// consistent snapshot: each transfer balances; the balance table equals the sum of the entries;
// each currency sums to zero; no account that must not go negative has; each order's escrow
// equals what its state says it holds (zero once closed); each supplier's used coverage equals
// the coverage of its open orders; open suspense equals the suspense accounts; payouts agree
// with their transfers and each supplier's receivable with its guaranteed refunds less netting
// (payouts_check.go); every event stream is an unbroken chain.
func (s *Service) CheckLedger(ctx context.Context) (CheckReport, error) {
	var r CheckReport
	err := s.store.Read(ctx, func(rd Reader) error {
		computed, err := r.checkTransfers(ctx, rd)
		if err != nil {
			return err
		}
		if err := r.checkOrders(ctx, rd, computed); err != nil {
			return err
		}
		if err := r.checkSuspense(ctx, rd, computed); err != nil {
			return err
		}
		if err := r.checkPayouts(ctx, rd, computed, r.payouts); err != nil {
			return err
		}
		return r.checkChains(ctx, rd)
	})
	return r, err
}

func (r *CheckReport) violate(rule, format string, args ...any) {
	r.Violations = append(r.Violations, ledger.Violation{Rule: rule, Detail: fmt.Sprintf(format, args...)})
}

func (r *CheckReport) checkTransfers(ctx context.Context, rd Reader) (ledger.Balances, error) {
	var all []ledger.Transfer
	for after := int64(0); ; {
		page, err := rd.Transfers(ctx, after, PageSizeMax)
		if err != nil {
			return nil, fmt.Errorf("read transfers: %w", err)
		}
		for _, t := range page {
			all = append(all, t.Transfer)
			after = t.Seq
		}
		if len(page) < PageSizeMax {
			break
		}
	}
	computed, vs := ledger.CheckTransfers(all)
	r.Violations = append(r.Violations, vs...)
	r.Violations = append(r.Violations, ledger.CheckBalances(computed)...)
	r.checkLoanBook(all, computed) // Pay Later (R11)
	r.payouts = payoutTransfers(all)
	r.Transfers, r.Accounts = len(all), len(computed)
	cached, err := rd.Balances(ctx)
	if err != nil {
		return nil, fmt.Errorf("read balances: %w", err)
	}
	ids := make([]string, 0, len(computed))
	for id := range computed {
		ids = append(ids, id)
	}
	for id := range cached {
		if _, ok := computed[id]; !ok {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	for _, id := range ids {
		if cached[id] != computed[id] {
			r.violate("balance_cache_mismatch", "%s: table says %d, entries sum to %d", id, cached[id], computed[id])
		}
		if a, err := ledger.ParseAccountID(id); err == nil {
			r.Trial = append(r.Trial, AccountBalance{id, ledger.Natural(a.Kind, computed[id])})
		}
	}
	return computed, nil
}

func (r *CheckReport) checkOrders(ctx context.Context, rd Reader, b ledger.Balances) error {
	used := map[string]int64{}
	for after := ""; ; {
		page, err := rd.Orders(ctx, OrderFilter{After: after, Limit: PageSizeMax})
		if err != nil {
			return fmt.Errorf("read orders: %w", err)
		}
		for _, o := range page {
			r.Orders++
			after = o.ID
			esc := ledger.Account{Kind: ledger.Escrow, Owner: o.ID, Currency: o.Currency}
			if got := ledger.Natural(ledger.Escrow, b[esc.ID()]); got != o.Money.Held() {
				r.violate("escrow_mismatch", "order %s (%s): escrow %d, state says %d", o.ID, o.State, got, o.Money.Held())
			}
			if o.State.Terminal() && o.Money.Held() != 0 {
				r.violate("escrow_not_empty", "order %s is %s but holds %d", o.ID, o.State, o.Money.Held())
			}
			if o.Money.Refunded+o.Money.Guaranteed > o.Money.Paid {
				r.violate("refund_exceeds_paid", "order %s refunded %d of %d paid", o.ID, o.Money.Refunded+o.Money.Guaranteed, o.Money.Paid)
			}
			if !o.State.Terminal() {
				used[o.SupplierID] += o.Coverage
			}
		}
		if len(page) < PageSizeMax {
			break
		}
	}
	suppliers, err := rd.Orgs(ctx, trade.KindSupplier)
	if err != nil {
		return fmt.Errorf("read suppliers: %w", err)
	}
	for _, sup := range suppliers {
		if sup.Coverage.Used != used[sup.ID] {
			r.violate("coverage_mismatch", "supplier %s uses %d, its open orders hold %d", sup.ID, sup.Coverage.Used, used[sup.ID])
		}
	}
	return nil
}

func (r *CheckReport) checkSuspense(ctx context.Context, rd Reader, b ledger.Balances) error {
	items, err := rd.SuspenseItems(ctx, SuspenseOpen, PageSizeMax)
	if err != nil {
		return fmt.Errorf("read suspense: %w", err)
	}
	open := map[string]int64{}
	for _, it := range items {
		open[trade.SuspenseAccount(it.Method, it.Amount.Currency).ID()] += it.Amount.Minor
	}
	for id, signed := range b {
		if a, err := ledger.ParseAccountID(id); err == nil && a.Kind == ledger.Suspense {
			if got := ledger.Natural(a.Kind, signed); got != open[id] && len(items) < PageSizeMax {
				r.violate("suspense_mismatch", "%s holds %d, open items add up to %d", id, got, open[id])
			}
		}
	}
	return nil
}

func (r *CheckReport) checkChains(ctx context.Context, rd Reader) error {
	for after := ""; ; {
		streams, err := rd.StreamIDs(ctx, after, PageSizeMax)
		if err != nil {
			return fmt.Errorf("read streams: %w", err)
		}
		for _, st := range streams {
			after = st
			r.Streams++
			evs, err := rd.Events(ctx, st)
			if err != nil {
				return fmt.Errorf("read events of %s: %w", st, err)
			}
			r.Events += len(evs)
			r.Violations = append(r.Violations, VerifyChain(st, evs)...)
		}
		if len(streams) < PageSizeMax {
			return nil
		}
	}
}
