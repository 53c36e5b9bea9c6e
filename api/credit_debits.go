package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/tradeassure/tradeassure/escrow"
)

// registerBankDebits serves the Pay Later debit outbox to admins (R11, docs/pay-later.md): the
// debit requests, those waiting for an operator among them, and the operator's retry.
func (s *Server) registerBankDebits(a huma.API, tags []string) {
	huma.Register(a, huma.Operation{OperationID: "list_bank_debits", Method: http.MethodGet, Path: "/v1/credit/bank-debits",
		Summary: "Debits of buyers' business checking accounts, newest first, a page at a time (R11; admin)",
		Description: "Each due-date debit, retry and early payoff is a request the bank worker sends to the bank outside " +
			"any transaction. status=attention lists those the bank never answered after the worker's attempts: whether " +
			"money moved is unknown, the loan takes no other debit, and an operator retries them. status=unapplied lists " +
			"debits the bank paid after the loan had changed (a refund of its order): to settle with the lender.",
		Tags: tags, Security: bearerAuth},
		func(ctx context.Context, in *struct {
			Status string `query:"status" enum:"requested,succeeded,refused,attention,unapplied"`
			LoanID string `query:"loan_id" maxLength:"64"`
			After  string `query:"after" maxLength:"64" doc:"The next_cursor of the previous page."`
			Limit  int    `query:"limit" minimum:"1" maximum:"100" default:"50" doc:"Items per page (at most 100)."`
		}) (*struct{ Body bankDebitPage }, error) {
			list, next, err := s.svc.BankDebitsPage(ctx, actor(ctx), escrow.DebitFilter{Status: escrow.DebitStatus(in.Status),
				LoanID: in.LoanID, After: in.After, Limit: in.Limit})
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &struct{ Body bankDebitPage }{bankDebitPage{Items: list, NextCursor: next}}, nil
		})
	huma.Register(a, huma.Operation{OperationID: "retry_bank_debit", Method: http.MethodPost, Path: "/v1/credit/bank-debits/{id}/retry",
		Summary: "Ask the bank again for a debit waiting for an operator, with the same reference: a debit that went " +
			"through is not taken twice (R11; admin)",
		Tags: tags, Security: bearerAuth},
		func(ctx context.Context, in *struct {
			ID             string `path:"id" maxLength:"64"`
			IdempotencyKey string `header:"Idempotency-Key" required:"true" minLength:"1" maxLength:"255"`
			Body           struct{}
		}) (*struct{ Body escrow.DebitRequest }, error) {
			d, err := s.svc.RetryBankDebit(ctx, actor(ctx), in.IdempotencyKey, in.ID)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &struct{ Body escrow.DebitRequest }{d}, nil
		})
	huma.Register(a, huma.Operation{OperationID: "record_bank_debit_result", Method: http.MethodPost,
		Path: "/v1/credit/bank-debits/{id}/result", Tags: tags, Security: bearerAuth,
		Summary: "Record the bank's answer to a debit by hand: paid or refused (R11; admin)",
		Description: "Where no bank adapter runs (the sandbox off), debit requests wait in the outbox and an operator " +
			"records each answer from the bank's report; it is applied as the bank worker's would be. Recording the same " +
			"answer again returns the request; a different answer for one already answered is refused (bank_debit_recorded), " +
			"and so is one the bank worker is asking about right now (bank_debit_in_progress)."},
		func(ctx context.Context, in *struct {
			ID             string `path:"id" maxLength:"64"`
			IdempotencyKey string `header:"Idempotency-Key" required:"true" minLength:"1" maxLength:"255"`
			Body           struct {
				Paid bool `json:"paid" doc:"true: the bank paid the debit; false: it refused it."`
			}
		}) (*struct{ Body escrow.DebitRequest }, error) {
			d, err := s.svc.RecordBankDebitResult(ctx, actor(ctx), in.IdempotencyKey, in.ID, in.Body.Paid)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &struct{ Body escrow.DebitRequest }{d}, nil
		})
	huma.Register(a, huma.Operation{OperationID: "list_lender_requests", Method: http.MethodGet, Path: "/v1/credit/lender-requests",
		Summary: "Requests to the lender — applications to decide, disbursements to make — newest first, a page at a time (R11; admin)",
		Description: "The lender worker asks the lender outside any transaction and records each answer. status=attention " +
			"lists those the lender never answered after the worker's attempts, or whose answer could not be booked (a " +
			"disbursement that does not match its loan): an operator looks, and retries them.",
		Tags: tags, Security: bearerAuth},
		func(ctx context.Context, in *struct {
			Status        string `query:"status" enum:"requested,recorded,attention"`
			Kind          string `query:"kind" enum:"decision,disbursement"`
			LoanID        string `query:"loan_id" maxLength:"64"`
			ApplicationID string `query:"application_id" maxLength:"64"`
			After         string `query:"after" maxLength:"64" doc:"The next_cursor of the previous page."`
			Limit         int    `query:"limit" minimum:"1" maximum:"100" default:"50" doc:"Items per page (at most 100)."`
		}) (*struct{ Body lenderRequestPage }, error) {
			list, next, err := s.svc.LenderRequestsPage(ctx, actor(ctx), escrow.LenderFilter{Status: escrow.LenderRequestStatus(in.Status),
				Kind: escrow.LenderRequestKind(in.Kind), LoanID: in.LoanID, ApplicationID: in.ApplicationID, After: in.After, Limit: in.Limit})
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &struct{ Body lenderRequestPage }{lenderRequestPage{Items: list, NextCursor: next}}, nil
		})
	huma.Register(a, huma.Operation{OperationID: "retry_lender_request", Method: http.MethodPost,
		Path: "/v1/credit/lender-requests/{id}/retry", Tags: tags, Security: bearerAuth,
		Summary: "Ask the lender again for a request waiting for an operator, with the same reference: a disbursement " +
			"that was paid is not paid twice (R11; admin)"},
		func(ctx context.Context, in *struct {
			ID             string `path:"id" maxLength:"64"`
			IdempotencyKey string `header:"Idempotency-Key" required:"true" minLength:"1" maxLength:"255"`
			Body           struct{}
		}) (*struct{ Body escrow.LenderRequest }, error) {
			r, err := s.svc.RetryLenderRequest(ctx, actor(ctx), in.IdempotencyKey, in.ID)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &struct{ Body escrow.LenderRequest }{r}, nil
		})
}

// bankDebitPage is a page of the bank debit outbox.
type bankDebitPage struct {
	Items      []escrow.DebitRequest `json:"items"`
	NextCursor string                `json:"next_cursor,omitempty" doc:"Pass as ?after= for the next page; absent on the last page."`
}

// lenderRequestPage is a page of the lender outbox.
type lenderRequestPage struct {
	Items      []escrow.LenderRequest `json:"items"`
	NextCursor string                 `json:"next_cursor,omitempty" doc:"Pass as ?after= for the next page; absent on the last page."`
}
