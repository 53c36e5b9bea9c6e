package escrow

import (
	"context"
	"errors"
	"fmt"

	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/ledger"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/payment"
	"github.com/tradeassure/tradeassure/trade"
)

// Incoming is money a rail reports as received: a bank statement line, a card capture, a
// Western Union payout, or (booked on its own clearing account) the sandbox.
type Incoming struct {
	Method    payment.Method
	Amount    money.Amount
	Reference string // what the payer quoted
	Payer     string
}

// Allocation says where incoming money went: to an order's payment, or to suspense (R8).
type Allocation struct {
	OrderID    string `json:"order_id,omitempty"`
	PaymentID  string `json:"payment_id,omitempty"`
	SuspenseID string `json:"suspense_id,omitempty"`
	Reason     string `json:"reason,omitempty"` // why it went to suspense
}

// ReceiveFunds books money a rail received. key is the rail's own ID for the credit (a
// statement entry, a capture ID), so importing the same statement twice books it once. Money
// that matches a payment by reference and amount goes to the order; anything else is held in
// suspense, not covered, until an admin allocates it (R8).
func (s *Service) ReceiveFunds(ctx context.Context, key string, in Incoming) (Allocation, error) {
	if _, err := payment.Info(in.Method); err != nil {
		return Allocation{}, err
	}
	if !in.Amount.Currency.Valid() || !in.Amount.IsPositive() {
		return Allocation{}, fault.FieldErr("amount", "amount_not_positive", "incoming money must be a positive amount")
	}
	if len(in.Reference) > trade.TextMax || len(in.Payer) > trade.TextMax {
		return Allocation{}, fault.FieldErr("reference", "invalid_reference", "reference and payer have at most %d characters", trade.TextMax)
	}
	a := trade.System
	return run(ctx, s, a, "rail:"+string(in.Method)+":"+key, in, func(u *unit) (Allocation, error) {
		return s.allocateFrom(ctx, u, key, in, trade.RailAccount(in.Method, in.Amount.Currency))
	})
}

// allocateFrom matches incoming money debited to src: the rail's clearing account, or the
// sandbox's for money the sandbox made up. creditID is the rail's ID of the credit. The Pay
// Later lender's money (method pay_later) pays only the Pay Later payment of an accepted loan,
// and disburses that loan (fundLoan); anything else it quotes goes to suspense.
func (s *Service) allocateFrom(ctx context.Context, u *unit, creditID string, in Incoming, src ledger.Account) (Allocation, error) {
	orderID, paymentID, err := u.tx.PaymentByReference(ctx, in.Reference)
	reason := "no_matching_payment"
	if err == nil {
		if in.Method == payment.PayLater { // R11: the lender's money
			err = s.fundLoan(ctx, u, orderID, paymentID, loanFunds{ID: creditID, Amount: in.Amount, Source: src,
				Sandbox: src == trade.SandboxAccount(in.Amount.Currency)})
		} else {
			_, err = s.apply(ctx, u, orderID, trade.ReceivePayment{PaymentID: paymentID, Amount: in.Amount, Source: src})
		}
		if err == nil {
			return Allocation{OrderID: orderID, PaymentID: paymentID}, nil
		}
		if !refused(err) {
			return Allocation{}, err
		}
		reason = fault.ReasonOf(err)
	} else if !errors.Is(err, ErrNotFound) {
		return Allocation{}, fmt.Errorf("match reference: %w", err)
	}
	return s.toSuspense(ctx, u, in, src, reason)
}

func (s *Service) toSuspense(ctx context.Context, u *unit, in Incoming, src ledger.Account, reason string) (Allocation, error) {
	item := SuspenseItem{ID: newID("sus"), Method: in.Method, Amount: in.Amount, Reference: in.Reference,
		Payer: in.Payer, ReceivedAt: u.now, State: SuspenseOpen, Note: reason}
	t, err := ledger.NewTransfer("tr_"+item.ID, "suspense_received", in.Amount.Currency, "", u.now).
		Post(src, trade.SuspenseAccount(in.Method, in.Amount.Currency), in.Amount.Minor).
		Memo(in.Reference).Build()
	if err != nil {
		return Allocation{}, err
	}
	if err := u.tx.PostTransfer(ctx, t); err != nil {
		return Allocation{}, postError(t, err)
	}
	if err := u.tx.InsertSuspense(ctx, item); err != nil {
		return Allocation{}, fmt.Errorf("insert suspense: %w", err)
	}
	if err := u.appendEvent(ctx, ledger.Platform, nil, "suspense.received", item); err != nil {
		return Allocation{}, err
	}
	return Allocation{SuspenseID: item.ID, Reason: reason}, nil
}

// AllocateSuspense applies money held in suspense to an order's payment (R8): from then on it
// is covered like any payment. Money the Pay Later lender sent (method pay_later) pays only the
// Pay Later payment of an accepted loan, the agreement's principal exactly, and disburses that
// loan (R11).
func (s *Service) AllocateSuspense(ctx context.Context, a trade.Actor, key, suspenseID, orderID, paymentID string) (Allocation, error) {
	if err := requireAdmin(a); err != nil {
		return Allocation{}, err
	}
	return run(ctx, s, a, key, []any{"allocate", suspenseID, orderID, paymentID}, func(u *unit) (Allocation, error) {
		item, err := u.tx.Suspense(ctx, suspenseID)
		if err != nil {
			return Allocation{}, notFound(err, "suspense_item")
		}
		if item.State != SuspenseOpen {
			return Allocation{}, fault.New(fault.Conflict, "suspense_not_open", "this money was already %s", item.State)
		}
		// The money's arrival is the rail's event, as if the payer had quoted the reference; the
		// admin's decision to allocate it is recorded beside it.
		src := trade.SuspenseAccount(item.Method, item.Amount.Currency)
		rail := &unit{tx: u.tx, now: u.now, actor: trade.System}
		if item.Method == payment.PayLater { // R11: the lender's money disburses the loan it pays
			if err := s.fundLoan(ctx, rail, orderID, paymentID, loanFunds{ID: item.ID, Amount: item.Amount, Source: src}); err != nil {
				return Allocation{}, err
			}
		} else if _, err := s.apply(ctx, rail, orderID, trade.ReceivePayment{PaymentID: paymentID, Amount: item.Amount, Source: src}); err != nil {
			return Allocation{}, err
		}
		u.events = append(u.events, rail.events...)
		item.State, item.OrderID, item.PaymentID = SuspenseAllocated, orderID, paymentID
		if err := u.tx.UpdateSuspense(ctx, item); err != nil {
			return Allocation{}, fmt.Errorf("update suspense: %w", err)
		}
		alloc := Allocation{OrderID: orderID, PaymentID: paymentID, SuspenseID: item.ID}
		return alloc, u.appendEvent(ctx, ledger.Platform, nil, "suspense.allocated", alloc)
	})
}

// Suspense lists money held in suspense.
func (s *Service) Suspense(ctx context.Context, a trade.Actor, state SuspenseState) ([]SuspenseItem, error) {
	if err := requireAdmin(a); err != nil {
		return nil, err
	}
	var out []SuspenseItem
	err := s.store.Read(ctx, func(r Reader) error {
		var err error
		out, err = r.SuspenseItems(ctx, state, PageSizeMax)
		return err
	})
	return out, err
}
