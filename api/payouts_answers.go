package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/trade"
)

// The answers to payouts (docs/payouts.md): where no payout adapter runs, an operator records
// what the bank's report says about a requested payout; a return flags the supplier's account,
// which an admin clears; on a sandbox server the sandbox payout rail may be told to return a
// supplier's payouts.

// payoutResultBody is the bank's answer to a payout, as an operator read it.
type payoutResultBody struct {
	Outcome       string       `json:"outcome" enum:"sent,returned" doc:"sent: the wire left the platform's bank; returned: the bank returned (or rejected) it."`
	Amount        money.Amount `json:"amount" doc:"What the bank sent or returned: must be the payout's sent amount, in its currency."`
	BankReference string       `json:"bank_reference,omitempty" maxLength:"35" doc:"sent: the bank's reference of the wire (ISO 20022 Max35Text)."`
	ValueDate     string       `json:"value_date" format:"date" doc:"sent: the day the wire left; returned: the day it came back. Not before the payout was requested, at most 7 days ahead."`
	Reason        string       `json:"reason,omitempty" maxLength:"140" doc:"returned: why, as the bank said (e.g. an ISO 20022 return reason: AC04 closed account number)."`
}

// sandboxPayoutRailView is the sandbox payout rail's setting for one supplier.
type sandboxPayoutRailView struct {
	SupplierID string `json:"supplier_id"`
	Return     bool   `json:"return" doc:"The sandbox returns the supplier's payouts (a closed account) instead of sending them."`
	Sandbox    bool   `json:"sandbox" doc:"Always true: the sandbox payout rail is simulated, no money moves."`
}

func (s *Server) registerPayoutAnswers(a huma.API, tags []string) {
	huma.Register(a, huma.Operation{OperationID: "record_payout_result", Method: http.MethodPost,
		Path: "/v1/payouts/{id}/result", Tags: tags, Security: bearerAuth,
		Summary: "Record the bank's answer to a payout by hand: sent or returned (admin)",
		Description: "Where no payout adapter runs (the sandbox off), payouts wait as requested and an operator records " +
			"each answer from the bank's report. sent moves the payout's money from payouts_in_transit to the rail's " +
			"clearing account; returned puts it back in the supplier's payable and flags the supplier's account. The " +
			"amount must be the payout's (422 payout_amount_mismatch). Recording the same answer again returns the " +
			"payout unchanged; a different answer for one answered already is refused (409 payout_recorded), and so is " +
			"one the payout rail's worker is asking about right now (409 payout_in_progress)."},
		func(ctx context.Context, in *struct {
			ID             string `path:"id" maxLength:"64"`
			IdempotencyKey string `header:"Idempotency-Key" required:"true" minLength:"1" maxLength:"255"`
			Body           payoutResultBody
		}) (*payoutOut, error) {
			// The use case checks the role first: a caller who may not record learns nothing.
			day, err := time.Parse(time.DateOnly, in.Body.ValueDate)
			if err != nil && actor(ctx).Role == trade.RoleAdmin {
				return nil, s.fail(ctx, fault.FieldErr("value_date", "invalid_value_date", "give the value date as YYYY-MM-DD"))
			}
			p, err := s.svc.RecordPayoutResult(ctx, actor(ctx), in.IdempotencyKey, in.ID, trade.PayoutResult{
				Outcome: trade.PayoutOutcome(in.Body.Outcome), Amount: in.Body.Amount, BankReference: in.Body.BankReference,
				ValueDate: day, Reason: in.Body.Reason})
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &payoutOut{payoutView(ctx, p)}, nil
		})
	huma.Register(a, huma.Operation{OperationID: "clear_payout_flag", Method: http.MethodPost,
		Path: "/v1/payouts/flags/{supplier_id}/clear", Tags: tags, Security: bearerAuth,
		Summary: "Clear the flag a returned payout put on a supplier's account, so payouts send again (admin)",
		Description: "Once the supplier has given correct bank details. The automatic payout is scheduled for what the " +
			"supplier is owed. A supplier whose account is not flagged is a 409 payout_account_not_flagged."},
		func(ctx context.Context, in *struct {
			SupplierID     string `path:"supplier_id" maxLength:"64"`
			IdempotencyKey string `header:"Idempotency-Key" required:"true" minLength:"1" maxLength:"255"`
			Body           struct{}
		}) (*struct{ Body trade.PayoutAccountFlag }, error) {
			f, err := s.svc.ClearPayoutFlag(ctx, actor(ctx), in.IdempotencyKey, in.SupplierID)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &struct{ Body trade.PayoutAccountFlag }{f}, nil
		})
	huma.Register(a, huma.Operation{OperationID: "set_sandbox_payout_rail", Method: http.MethodPost,
		Path: "/v1/payouts/sandbox-rail", Tags: tags, Security: bearerAuth,
		Summary: "Make the sandbox payout rail return a supplier's payouts, or send them again (admin; sandbox only)",
		Description: "Only with the sandbox on (serve --sandbox or --demo): 409 sandbox_payout_rail_disabled otherwise. The " +
			"setting is stored, so every process sharing the database uses it; a payout already answered keeps its answer. " +
			"Takes an Idempotency-Key like every POST, but needs no record of it: it sets a flag."},
		func(ctx context.Context, in *struct {
			IdempotencyKey string `header:"Idempotency-Key" required:"true" minLength:"1" maxLength:"255"`
			Body           struct {
				SupplierID string `json:"supplier_id" maxLength:"64"`
				Return     bool   `json:"return"`
			}
		}) (*struct{ Body sandboxPayoutRailView }, error) {
			if actor(ctx).Role != trade.RoleAdmin {
				return nil, s.fail(ctx, fault.New(fault.Forbidden, "role_not_allowed", "only an admin configures the sandbox payout rail"))
			}
			r, ok := s.svc.SandboxPayoutRail()
			if !ok {
				return nil, s.fail(ctx, fault.New(fault.Conflict, "sandbox_payout_rail_disabled",
					"the sandbox is off: payouts wait for the bank's answer, recorded by an operator"))
			}
			if err := r.SetReturns(ctx, in.Body.SupplierID, in.Body.Return); err != nil {
				return nil, s.fail(ctx, err)
			}
			return &struct{ Body sandboxPayoutRailView }{sandboxPayoutRailView{SupplierID: in.Body.SupplierID, Return: in.Body.Return,
				Sandbox: true}}, nil
		})
}
