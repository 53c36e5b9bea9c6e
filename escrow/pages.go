package escrow

import (
	"context"
	"fmt"

	"github.com/tradeassure/tradeassure/ledger"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/trade"
)

// clampPage keeps a page's limit within 1..PageSizeMax.
func clampPage(limit int) int {
	if limit <= 0 || limit > PageSizeMax {
		return PageSizeMax
	}
	return limit
}

// OrderEventsPage lists the audit log of an order a may see, up to limit events with a Seq
// after after, less what a's role may not read (an inspection company does not see the money).
// next is the cursor of the following page, 0 on the last; since hidden events are passed over,
// a page may hold fewer than limit events and still have a next one.
func (s *Service) OrderEventsPage(ctx context.Context, a trade.Actor, orderID string, after int64, limit int) (evs []Event, next int64, err error) {
	if _, err := s.Order(ctx, a, orderID); err != nil {
		return nil, 0, err
	}
	limit = clampPage(limit)
	var all []Event
	if err := s.store.Read(ctx, func(r Reader) error {
		var err error
		all, err = r.StreamEvents(ctx, orderID, after, limit)
		return err
	}); err != nil {
		return nil, 0, err
	}
	evs = []Event{}
	for _, e := range all {
		if trade.EventVisible(e.Type, a.Role) {
			evs = append(evs, e)
		}
	}
	if len(all) == limit {
		next = all[len(all)-1].Seq
	}
	return evs, next, nil
}

// MessagesPage lists the thread of an order a may see (R23), up to limit messages after the
// message after, oldest first; next is the last one's ID when another page may follow.
func (s *Service) MessagesPage(ctx context.Context, a trade.Actor, orderID, after string, limit int) (ms []trade.Message, next string, err error) {
	if _, err := s.Order(ctx, a, orderID); err != nil {
		return nil, "", err
	}
	limit = clampPage(limit)
	err = s.store.Read(ctx, func(r Reader) error {
		var err error
		ms, err = r.MessagesPage(ctx, orderID, after, limit)
		return err
	})
	if len(ms) == limit {
		next = ms[len(ms)-1].ID
	}
	if ms == nil {
		ms = []trade.Message{}
	}
	return ms, next, err
}

// EligibleSuppliersPage lists suppliers eligible for Trade Assurance (R1) by ID, scanning up to
// limit suppliers after the ID after; next is the last one scanned when another page may follow,
// so a page may hold fewer than limit suppliers (the ineligible are passed over).
func (s *Service) EligibleSuppliersPage(ctx context.Context, after string, limit int) (orgs []trade.Org, next string, err error) {
	limit = clampPage(limit)
	var all []trade.Org
	if err := s.store.Read(ctx, func(r Reader) error {
		var err error
		all, err = r.OrgsPage(ctx, trade.KindSupplier, after, limit)
		return err
	}); err != nil {
		return nil, "", err
	}
	orgs = []trade.Org{}
	for _, o := range all {
		if o.Eligibility.Eligible {
			orgs = append(orgs, o)
		}
	}
	if len(all) == limit {
		next = all[len(all)-1].ID
	}
	return orgs, next, nil
}

// SuspensePage lists money held in suspense in a state (R8; admin), up to limit items after the
// item after, oldest first; next is the last one's ID when another page may follow.
func (s *Service) SuspensePage(ctx context.Context, a trade.Actor, state SuspenseState, after string, limit int) (items []SuspenseItem, next string, err error) {
	if err := requireAdmin(a); err != nil {
		return nil, "", err
	}
	limit = clampPage(limit)
	err = s.store.Read(ctx, func(r Reader) error {
		var err error
		items, err = r.SuspensePage(ctx, state, after, limit)
		return err
	})
	if len(items) == limit {
		next = items[len(items)-1].ID
	}
	if items == nil {
		items = []SuspenseItem{}
	}
	return items, next, err
}

// BalanceView is one account of the balance table as an admin reads it.
type BalanceView struct {
	Account  string         `json:"account" doc:"kind:owner:CUR"`
	Kind     ledger.Kind    `json:"kind"`
	Owner    string         `json:"owner" doc:"The order, organization, rail, lender or loan it is kept for; platform for the platform's own."`
	Currency money.Currency `json:"currency"`
	Balance  int64          `json:"balance" doc:"In minor units, in the kind's natural sign: positive on its normal side (debit for rail_clearing, supplier_receivable, loan_receivable, credit_loss; credit for the others)."`
}

// BalancesPage lists a page of the balance table for an admin, by account ID: the balances the
// ledger keeps in step with its entries, without the full scan of CheckLedger. next is the last
// account's ID when another page may follow.
func (s *Service) BalancesPage(ctx context.Context, a trade.Actor, f BalanceFilter) (out []BalanceView, next string, err error) {
	if err := requireAdmin(a); err != nil {
		return nil, "", err
	}
	f.Limit = clampPage(f.Limit)
	var rows []AccountBalance
	if err := s.store.Read(ctx, func(r Reader) error {
		var err error
		rows, err = r.BalancesPage(ctx, f)
		return err
	}); err != nil {
		return nil, "", err
	}
	out = make([]BalanceView, 0, len(rows))
	for _, row := range rows {
		acc, err := ledger.ParseAccountID(row.Account)
		if err != nil {
			return nil, "", fmt.Errorf("balance table: %w", err)
		}
		out = append(out, BalanceView{Account: row.Account, Kind: acc.Kind, Owner: acc.Owner, Currency: acc.Currency,
			Balance: ledger.Natural(acc.Kind, row.Balance)})
	}
	if len(rows) == f.Limit {
		next = rows[len(rows)-1].Account
	}
	return out, next, nil
}
