package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/payment"
	"github.com/tradeassure/tradeassure/trade"
)

// Supplier payouts: a supplier reads what the platform owes it and the payouts it received; an
// admin pays a supplier out now, records the bank's answer to a payout where no adapter runs,
// and clears the flag a returned payout put on a supplier's account. The automatic payout runs
// by itself after a release. See docs/payouts.md.

// PayoutView is a payout as the API shows it.
type PayoutView struct {
	ID               string         `json:"id"`
	SupplierID       string         `json:"supplier_id"`
	PayableBefore    money.Amount   `json:"payable_before" doc:"What the platform owed the supplier: released, not yet paid out (R12)."`
	ReceivableBefore money.Amount   `json:"receivable_before" doc:"What the supplier owed the platform from refunds paid by the guarantee fund (R14)."`
	Netted           money.Amount   `json:"netted" doc:"Settled against that debt first: min(payable, receivable)."`
	Sent             money.Amount   `json:"sent" doc:"What the rail is told to send to the supplier's bank: payable less netted."`
	Method           payment.Method `json:"method" doc:"The rail the money leaves by; its banks' charges are theirs, not collected by the platform."`
	Reference        string         `json:"reference" doc:"What the supplier's bank statement shows (at most 16 characters)."`
	Status           string         `json:"status" enum:"requested,sent,returned,netted" doc:"requested: the rail was told to send it and has not confirmed; sent: the rail confirmed the wire left; returned: the bank returned it and the money is owed to the supplier again; netted: the whole payable went to the debt and nothing was sent."`
	Trigger          string         `json:"trigger" doc:"admin (pay out now) or automatic (the daily payout after a release)."`
	Sandbox          bool           `json:"sandbox" doc:"Requested on a sandbox server: the sandbox payout rail answers it and no real money moves."`
	CreatedAt        time.Time      `json:"created_at"`
	TransferIDs      []string       `json:"transfer_ids" doc:"The ledger transfers it posted, in order: payout_netting, payout_requested, then payout (sent) or payout_returned."`
	BankReference    string         `json:"bank_reference,omitempty" doc:"The bank's reference of the wire, once sent."`
	ValueDate        string         `json:"value_date,omitempty" format:"date" doc:"The day the wire left, once sent."`
	SentAt           *time.Time     `json:"sent_at,omitempty" doc:"When the confirmation was recorded."`
	ReturnDate       string         `json:"return_date,omitempty" format:"date" doc:"The day the bank returned it."`
	ReturnReason     string         `json:"return_reason,omitempty" doc:"Why the bank returned it."`
	ReturnedAt       *time.Time     `json:"returned_at,omitempty" doc:"When the return was recorded."`
	RecordedBy       string         `json:"recorded_by,omitempty" doc:"Admins only: who recorded the last answer, rail:<name> or admin:<user>."`
	Attempts         int            `json:"attempts,omitempty" doc:"Admins only: how often the payout rail was asked."`
	LastError        string         `json:"last_error,omitempty" doc:"Admins only: why the rail gave no answer last time."`
	Attention        bool           `json:"attention,omitempty" doc:"Admins only: the rail gave no usable answer after the worker's attempts; an operator records the bank's answer."`
}

// payoutView shows p; the outbox's workings are for admins only.
func payoutView(ctx context.Context, p trade.Payout) PayoutView {
	c := p.Currency
	v := PayoutView{ID: p.ID, SupplierID: p.SupplierID, PayableBefore: money.New(p.PayableBefore, c),
		ReceivableBefore: money.New(p.ReceivableBefore, c), Netted: money.New(p.Netted, c), Sent: money.New(p.Sent, c),
		Method: p.Method, Reference: p.Reference, Status: string(p.Status), Trigger: string(p.Trigger), Sandbox: p.Sandbox,
		CreatedAt: p.CreatedAt, TransferIDs: p.TransferIDs, BankReference: p.BankReference, ValueDate: dateOf(p.ValueDate),
		SentAt: p.SentAt, ReturnDate: dateOf(p.ReturnDate), ReturnReason: p.ReturnReason, ReturnedAt: p.ReturnedAt}
	if actor(ctx).Role == trade.RoleAdmin {
		v.RecordedBy, v.Attempts, v.LastError, v.Attention = p.RecordedBy, p.Attempts, p.LastError, p.Attention
	}
	return v
}

// dateOf writes a day as YYYY-MM-DD; "" for none.
func dateOf(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.Format(time.DateOnly)
}

type payoutPage struct {
	Items      []PayoutView `json:"items"`
	NextCursor string       `json:"next_cursor,omitempty" doc:"Pass as ?before= for the next (older) page; absent on the last page."`
}

// ReleaseView is one release the payable balance is made of.
type ReleaseView struct {
	OrderID    string       `json:"order_id"`
	TransferID string       `json:"transfer_id"`
	Code       string       `json:"code" doc:"release, release_for_production (R14), or payout_returned (a payout the bank returned)."`
	At         time.Time    `json:"at"`
	Amount     money.Amount `json:"amount"`
	Unpaid     money.Amount `json:"unpaid" doc:"The part still in the balance: payouts pay the oldest releases first."`
}

// PayoutBalanceView is what the platform owes a supplier in one currency.
type PayoutBalanceView struct {
	Currency     money.Currency `json:"currency"`
	Payable      money.Amount   `json:"payable" doc:"Released to the supplier, not yet paid out (R12)."`
	Receivable   money.Amount   `json:"receivable" doc:"The supplier's debt from refunds paid by the guarantee fund (R14); the next payout nets it first."`
	ToSend       money.Amount   `json:"to_send" doc:"What the next payout would send now: payable less receivable, at least zero; zero while the account is flagged."`
	InTransit    money.Amount   `json:"in_transit" doc:"Requested payouts the rail has not confirmed sent yet."`
	Method       payment.Method `json:"method,omitempty" doc:"The rail a payout in this currency leaves by."`
	NextPayoutAt *time.Time     `json:"next_payout_at,omitempty" doc:"When the automatic payout runs; absent when none is scheduled."`
	Releases     []ReleaseView  `json:"releases" doc:"The releases (and returned payouts) the payable is made of, newest first."`
	ReleasesMore bool           `json:"releases_more,omitempty" doc:"More releases make up the balance than are listed."`
}

type payoutBalances struct {
	SupplierID  string                   `json:"supplier_id"`
	Balances    []PayoutBalanceView      `json:"balances" doc:"One per currency the supplier was ever paid or owed in."`
	AccountFlag *trade.PayoutAccountFlag `json:"account_flag,omitempty" doc:"Present while a returned payout has the supplier's designated account flagged: nothing is sent until an admin clears it."`
}

func balanceView(b escrow.PayoutBalance) PayoutBalanceView {
	c := b.Currency
	v := PayoutBalanceView{Currency: c, Payable: money.New(b.Payable, c), Receivable: money.New(b.Receivable, c),
		ToSend: money.New(b.ToSend(), c), InTransit: money.New(b.InTransit, c), Method: b.Method, NextPayoutAt: b.NextPayoutAt, ReleasesMore: b.ReleasesMore,
		Releases: make([]ReleaseView, 0, len(b.Releases))}
	for _, r := range b.Releases {
		v.Releases = append(v.Releases, ReleaseView{OrderID: r.OrderID, TransferID: r.TransferID, Code: r.Code, At: r.At,
			Amount: money.New(r.Amount, c), Unpaid: money.New(r.Unpaid, c)})
	}
	return v
}

type payoutOut struct{ Body PayoutView }

func (s *Server) registerPayouts(a huma.API) {
	tags := []string{"Payouts"}
	huma.Register(a, huma.Operation{OperationID: "list_payouts", Method: http.MethodGet, Path: "/v1/payouts",
		Summary: "Payouts to suppliers, newest first (supplier: its own; admin: all or one supplier's)", Tags: tags,
		Security: bearerAuth, Description: "Page with ?before=<next_cursor>."},
		func(ctx context.Context, in *struct {
			SupplierID string `query:"supplier_id" maxLength:"64" doc:"Admin: only this supplier's. A supplier may name only itself."`
			Status     string `query:"status" enum:"requested,sent,returned,netted" doc:"Only payouts in this state: requested lists those waiting for the bank's answer."`
			Attention  bool   `query:"attention" doc:"Only requested payouts the payout rail gave no usable answer for: an operator records the bank's answer."`
			Before     string `query:"before" maxLength:"64" doc:"The next_cursor of the previous page."`
			Limit      int    `query:"limit" minimum:"1" maximum:"100" default:"50"`
		}) (*struct{ Body payoutPage }, error) {
			ps, err := s.svc.Payouts(ctx, actor(ctx), escrow.PayoutFilter{SupplierID: in.SupplierID, Status: trade.PayoutStatus(in.Status),
				Attention: in.Attention, Before: in.Before, Limit: in.Limit})
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			page := payoutPage{Items: make([]PayoutView, 0, len(ps))}
			for _, p := range ps {
				page.Items = append(page.Items, payoutView(ctx, p))
			}
			if len(ps) == in.Limit {
				page.NextCursor = ps[len(ps)-1].ID
			}
			return &struct{ Body payoutPage }{page}, nil
		})
	huma.Register(a, huma.Operation{OperationID: "get_payout_balance", Method: http.MethodGet, Path: "/v1/payouts/balance",
		Summary: "What the platform owes a supplier now, its debt, and the next automatic payout (supplier; admin)",
		Tags:    tags, Security: bearerAuth},
		func(ctx context.Context, in *struct {
			SupplierID string `query:"supplier_id" maxLength:"64" doc:"Required for an admin; a supplier may name only itself."`
		}) (*struct{ Body payoutBalances }, error) {
			sup := in.SupplierID
			if sup == "" && actor(ctx).Role == trade.RoleSupplier {
				sup = actor(ctx).OrgID
			}
			bs, err := s.svc.PayoutBalances(ctx, actor(ctx), sup)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			out := payoutBalances{SupplierID: sup, Balances: make([]PayoutBalanceView, 0, len(bs))}
			for _, b := range bs {
				out.Balances = append(out.Balances, balanceView(b))
			}
			if out.AccountFlag, err = s.svc.OpenPayoutFlag(ctx, actor(ctx), sup); err != nil {
				return nil, s.fail(ctx, err)
			}
			return &struct{ Body payoutBalances }{out}, nil
		})
	huma.Register(a, huma.Operation{OperationID: "get_payout", Method: http.MethodGet, Path: "/v1/payouts/{id}",
		Summary: "One payout (its supplier; admin)", Tags: tags, Security: bearerAuth},
		func(ctx context.Context, in *struct {
			ID string `path:"id" maxLength:"64"`
		}) (*payoutOut, error) {
			p, err := s.svc.Payout(ctx, actor(ctx), in.ID)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &payoutOut{payoutView(ctx, p)}, nil
		})
	huma.Register(a, huma.Operation{OperationID: "create_payout", Method: http.MethodPost, Path: "/v1/payouts",
		Summary: "Pay a supplier out now in one currency, netting its debt first (admin)", Tags: tags, Security: bearerAuth,
		DefaultStatus: http.StatusCreated,
		Description: "Pays the supplier's whole payable balance in the currency: what it owes from refunds paid by the " +
			"guarantee fund (R14) is netted first, the rest is requested from the T/T rail (status requested) and waits " +
			"in payouts_in_transit until the rail's answer is recorded. Nothing payable is a 409 nothing_to_pay_out; an " +
			"account flagged by a returned payout a 409 payout_account_flagged. Two payouts of the same supplier and " +
			"currency never pay the same money."},
		func(ctx context.Context, in *struct {
			IdempotencyKey string `header:"Idempotency-Key" required:"true" minLength:"1" maxLength:"255"`
			Body           struct {
				SupplierID string `json:"supplier_id" minLength:"1" maxLength:"64"`
				Currency   string `json:"currency" pattern:"^[A-Z]{3}$" doc:"ISO 4217."`
			}
		}) (*payoutOut, error) {
			// The use case checks the role before the currency: a caller who may not pay out learns nothing.
			p, err := s.svc.PayOut(ctx, actor(ctx), in.IdempotencyKey, in.Body.SupplierID, money.Currency(in.Body.Currency))
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &payoutOut{payoutView(ctx, p)}, nil
		})
	s.registerPayoutAnswers(a, tags)
}
