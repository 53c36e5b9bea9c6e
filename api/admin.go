package api

import (
	"context"
	"fmt"
	"net/http"
	"reflect"

	"github.com/danielgtaylor/huma/v2"

	"github.com/tradeassure/tradeassure/access"
	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/ledger"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/payment"
	"github.com/tradeassure/tradeassure/quality"
	"github.com/tradeassure/tradeassure/trade"
)

func (s *Server) register(a huma.API) {
	s.registerOrders(a)
	s.registerOrgs(a)
	s.registerMoney(a)
	s.registerCredit(a)
	s.registerPayouts(a)
	s.registerFiles(a)
	s.registerQuality(a)
	huma.Register(a, huma.Operation{OperationID: "get_sampling_plan", Method: http.MethodGet, Path: "/v1/sampling-plans",
		Summary: "The ISO 2859-1 single sampling plan for a lot (R5)", Tags: []string{"Quality"}, Security: bearerAuth},
		func(ctx context.Context, in *struct {
			Lot        int64  `query:"lot" minimum:"2"`
			Level      string `query:"level" default:"II" enum:"S-1,S-2,S-3,S-4,I,II,III"`
			AQL        string `query:"aql" default:"2.5" maxLength:"16" doc:"A label of the standard (0.010 … 1000), or 0 for zero tolerance."`
			Inspection string `query:"inspection" default:"normal" enum:"normal,tightened"`
		}) (*struct{ Body quality.PlanView }, error) {
			lvl, err := quality.ParseLevel(in.Level)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			aql, err := quality.ParseAQL(in.AQL)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			insp, err := quality.ParseInspection(in.Inspection)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			p, err := quality.PlanFor(in.Lot, lvl, aql, insp)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &struct{ Body quality.PlanView }{p.View()}, nil
		})
}

// SupplierView is what any signed-in party may see of a supplier: enough to choose one.
type SupplierView struct {
	ID                string         `json:"id"`
	Name              string         `json:"name"`
	Country           string         `json:"country"`
	Eligible          bool           `json:"eligible"`
	CoverageLimit     int64          `json:"coverage_limit"`
	CoverageAvailable int64          `json:"coverage_available" doc:"What new orders can still be covered, in minor units (R22)."`
	CoverageCurrency  money.Currency `json:"coverage_currency,omitempty"`
}

func supplierView(o trade.Org) SupplierView {
	return SupplierView{ID: o.ID, Name: o.Name, Country: o.Country, Eligible: o.Eligibility.Eligible,
		CoverageLimit: o.Coverage.Limit, CoverageAvailable: o.Coverage.Available(), CoverageCurrency: o.Coverage.Currency}
}

type orgOut struct{ Body trade.Org }

func (s *Server) registerOrgs(a huma.API) {
	tags := []string{"Organizations"}
	huma.Register(a, huma.Operation{OperationID: "list_suppliers", Method: http.MethodGet, Path: "/v1/suppliers",
		Summary: "Suppliers eligible for Trade Assurance, with their available coverage (R1, R22), by ID", Tags: tags, Security: bearerAuth},
		func(ctx context.Context, in *pageIn) (*struct{ Body supplierPage }, error) {
			orgs, next, err := s.svc.EligibleSuppliersPage(ctx, in.After, in.Limit)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			page := supplierPage{Items: make([]SupplierView, len(orgs)), NextCursor: next}
			for i, o := range orgs {
				page.Items[i] = supplierView(o)
			}
			return &struct{ Body supplierPage }{page}, nil
		})
	huma.Register(a, huma.Operation{OperationID: "create_org", Method: http.MethodPost, Path: "/v1/orgs",
		Summary: "Register an organization", Tags: tags, Security: bearerAuth, DefaultStatus: http.StatusCreated},
		func(ctx context.Context, in *struct {
			IdempotencyKey string `header:"Idempotency-Key" required:"true" minLength:"1" maxLength:"255"`
			Body           struct {
				Kind    string `json:"kind" enum:"buyer,supplier,inspector"`
				Name    string `json:"name" maxLength:"200"`
				Country string `json:"country" pattern:"^[A-Z]{2}$"`
			}
		}) (*orgOut, error) {
			o, err := s.svc.CreateOrg(ctx, actor(ctx), in.IdempotencyKey, trade.OrgKind(in.Body.Kind), in.Body.Name, in.Body.Country)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &orgOut{o}, nil
		})
	huma.Register(a, huma.Operation{OperationID: "get_org", Method: http.MethodGet, Path: "/v1/orgs/{id}",
		Summary: "Read an organization (its own members, or an admin)", Tags: tags, Security: bearerAuth},
		func(ctx context.Context, in *struct {
			ID string `path:"id" maxLength:"64"`
		}) (*orgOut, error) {
			who := actor(ctx)
			if who.OrgID != in.ID && who.Role != trade.RoleAdmin {
				return nil, s.fail(ctx, fault.New(fault.NotFound, "organization_not_found", "no such organization"))
			}
			o, err := s.svc.Org(ctx, in.ID)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &orgOut{o}, nil
		})
	type orgIn[B any] struct {
		ID             string `path:"id" maxLength:"64"`
		IdempotencyKey string `header:"Idempotency-Key" required:"true" minLength:"1" maxLength:"255"`
		Body           B
	}
	huma.Register(a, huma.Operation{OperationID: "set_eligibility", Method: http.MethodPost, Path: "/v1/orgs/{id}/eligibility",
		Summary: "Mark a supplier eligible or not, with a reason (R1; admin)", Tags: tags, Security: bearerAuth},
		func(ctx context.Context, in *orgIn[eligibilityBody]) (*orgOut, error) {
			o, err := s.svc.SetEligibility(ctx, actor(ctx), in.IdempotencyKey, in.ID, in.Body.Eligible, in.Body.Reason)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &orgOut{o}, nil
		})
	huma.Register(a, huma.Operation{OperationID: "set_coverage_limit", Method: http.MethodPost, Path: "/v1/orgs/{id}/coverage-limit",
		Summary: "Set a supplier's coverage limit (R22; admin)", Tags: tags, Security: bearerAuth},
		func(ctx context.Context, in *orgIn[coverageLimitBody]) (*orgOut, error) {
			o, err := s.svc.SetCoverageLimit(ctx, actor(ctx), in.IdempotencyKey, in.ID, in.Body.Limit)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &orgOut{o}, nil
		})
	huma.Register(a, huma.Operation{OperationID: "create_api_key", Method: http.MethodPost, Path: "/v1/orgs/{id}/api-keys",
		Summary: "Issue an API key; the token is shown only in this response", Tags: tags, Security: bearerAuth, DefaultStatus: http.StatusCreated,
		Description: "Idempotent by key, scoped to the organization the key is for: a retry with the same Idempotency-Key, " +
			"role and name issues nothing new and answers 200 with the key issued the first time, replayed true and no " +
			"token — the token is never stored (only its hash), so it cannot be shown again; if it was lost, revoke " +
			"that key and issue another with a new Idempotency-Key. Another role or name under the same key is 422 " +
			"idempotency_key_reused.",
		Responses: map[string]*huma.Response{"200": {Description: "A retry: the key issued before, replayed, without its token",
			Content: map[string]*huma.MediaType{"application/json": {
				Schema: a.OpenAPI().Components.Schemas.Schema(reflect.TypeFor[APIKeyIssued](), true, "")}}}}},
		func(ctx context.Context, in *struct {
			ID             string `path:"id" maxLength:"64"`
			IdempotencyKey string `header:"Idempotency-Key" required:"true" minLength:"1" maxLength:"255"`
			Body           struct {
				Role string `json:"role" enum:"buyer,supplier,inspector,admin,arbiter"`
				Name string `json:"name" maxLength:"100"`
			}
		}) (*apiKeyOut, error) {
			tok, k, err := s.acc.CreateAPIKeyOnce(ctx, actor(ctx), in.IdempotencyKey, in.ID, trade.Role(in.Body.Role), in.Body.Name)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			out := &apiKeyOut{Status: http.StatusCreated}
			out.Body.Token, out.Body.Key = tok, k
			if tok == "" {
				out.Status, out.Body.Replayed = http.StatusOK, true
			}
			return out, nil
		})
	huma.Register(a, huma.Operation{OperationID: "list_api_keys", Method: http.MethodGet, Path: "/v1/orgs/{id}/api-keys",
		Summary: "List an organization's API keys (never their secrets), oldest first", Tags: tags, Security: bearerAuth},
		func(ctx context.Context, in *struct {
			ID    string `path:"id" maxLength:"64"`
			After string `query:"after" maxLength:"64" doc:"The next_cursor of the previous page."`
			Limit int    `query:"limit" minimum:"1" maximum:"100" default:"50" doc:"Items per page (at most 100)."`
		}) (*struct{ Body apiKeyPage }, error) {
			ks, next, err := s.acc.APIKeysPage(ctx, actor(ctx), in.ID, in.After, in.Limit)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &struct{ Body apiKeyPage }{apiKeyPage{Items: ks, NextCursor: next}}, nil
		})
	huma.Register(a, huma.Operation{OperationID: "revoke_api_key", Method: http.MethodDelete, Path: "/v1/api-keys/{id}",
		Summary: "Revoke an API key", Tags: tags, Security: bearerAuth, DefaultStatus: http.StatusNoContent},
		func(ctx context.Context, in *struct {
			ID string `path:"id" maxLength:"64"`
		}) (*struct{}, error) {
			if err := s.acc.RevokeAPIKey(ctx, actor(ctx), in.ID); err != nil {
				return nil, s.fail(ctx, err)
			}
			return &struct{}{}, nil
		})
}

func (s *Server) registerMoney(a huma.API) {
	tags := []string{"Money"}
	huma.Register(a, huma.Operation{OperationID: "quote_payment", Method: http.MethodGet, Path: "/v1/quotes",
		Summary: "The fee and total of paying an amount by a method, before paying (R10)", Tags: tags, Security: bearerAuth},
		func(ctx context.Context, in *struct {
			Method   string `query:"method" enum:"tt_wire,tt_local,card,western_union,pay_later,online_bank,boleto"`
			Amount   int64  `query:"amount" minimum:"1" doc:"Minor units."`
			Currency string `query:"currency" pattern:"^[A-Z]{3}$"`
		}) (*struct{ Body payment.Quote }, error) {
			cur, err := money.ParseCurrency(in.Currency)
			if err != nil {
				return nil, s.fail(ctx, fault.FieldErr("currency", "unknown_currency", "unknown currency %q", in.Currency))
			}
			q, err := s.svc.Config().Fees.Quote(payment.Method(in.Method), money.New(in.Amount, cur), s.svc.Now())
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &struct{ Body payment.Quote }{q}, nil
		})
	huma.Register(a, huma.Operation{OperationID: "receive_funds", Method: http.MethodPost, Path: "/v1/rails/{method}/credits",
		Summary: "Report money a rail received; matched by reference or held in suspense (R8; admin or rail adapter)",
		Tags:    tags, Security: bearerAuth,
		Description: "Idempotent by the credit's own id, so importing a statement twice books each credit once, whoever " +
			"reports it. The Idempotency-Key header, required as on every POST, must be that id (422 " +
			"idempotency_key_mismatch otherwise): a retry answers the allocation stored the first time, and the same id " +
			"with another amount, reference or payer is 422 idempotency_key_reused. On the pay_later rail the Pay Later " +
			"lender's money pays only the Pay Later payment of an accepted loan, exactly its principal, and disburses that " +
			"loan (R11); anything else it quotes is held in suspense."},
		func(ctx context.Context, in *struct {
			Method         string `path:"method" enum:"tt_wire,tt_local,card,western_union,pay_later,online_bank,boleto"`
			IdempotencyKey string `header:"Idempotency-Key" required:"true" minLength:"1" maxLength:"200" doc:"The credit's id, as in the body."`
			Body           struct {
				ID        string       `json:"id" minLength:"1" maxLength:"200" doc:"The rail's own ID for this credit: importing it twice books it once."`
				Amount    money.Amount `json:"amount"`
				Reference string       `json:"reference" maxLength:"2000"`
				Payer     string       `json:"payer,omitempty" maxLength:"2000"`
			}
		}) (*struct{ Body escrow.Allocation }, error) {
			if r := actor(ctx).Role; r != trade.RoleAdmin {
				return nil, s.fail(ctx, fault.New(fault.Forbidden, "role_not_allowed", "only an admin or a rail adapter reports money"))
			}
			if in.IdempotencyKey != in.Body.ID {
				return nil, newProblem(http.StatusUnprocessableEntity, "idempotency_key_mismatch",
					"send the credit's id as its Idempotency-Key", &huma.ErrorDetail{Location: "header.Idempotency-Key",
						Message: "must equal body.id", Value: in.IdempotencyKey})
			}
			al, err := s.svc.ReceiveFunds(ctx, in.Body.ID, escrow.Incoming{Method: payment.Method(in.Method),
				Amount: in.Body.Amount, Reference: in.Body.Reference, Payer: in.Body.Payer})
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &struct{ Body escrow.Allocation }{al}, nil
		})
	huma.Register(a, huma.Operation{OperationID: "list_suspense", Method: http.MethodGet, Path: "/v1/suspense",
		Summary: "Money held without a matching order, oldest first (R8; admin)", Tags: tags, Security: bearerAuth},
		func(ctx context.Context, in *pageIn) (*struct{ Body suspensePage }, error) {
			items, next, err := s.svc.SuspensePage(ctx, actor(ctx), escrow.SuspenseOpen, in.After, in.Limit)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &struct{ Body suspensePage }{suspensePage{Items: items, NextCursor: next}}, nil
		})
	huma.Register(a, huma.Operation{OperationID: "allocate_suspense", Method: http.MethodPost, Path: "/v1/suspense/{id}/allocate",
		Summary: "Apply money in suspense to an order's payment (R8; admin)", Tags: tags, Security: bearerAuth},
		func(ctx context.Context, in *struct {
			ID             string `path:"id" maxLength:"64"`
			IdempotencyKey string `header:"Idempotency-Key" required:"true" minLength:"1" maxLength:"255"`
			Body           struct {
				OrderID   string `json:"order_id" maxLength:"64"`
				PaymentID string `json:"payment_id" maxLength:"100"`
			}
		}) (*struct{ Body escrow.Allocation }, error) {
			al, err := s.svc.AllocateSuspense(ctx, actor(ctx), in.IdempotencyKey, in.ID, in.Body.OrderID, in.Body.PaymentID)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &struct{ Body escrow.Allocation }{al}, nil
		})
	huma.Register(a, huma.Operation{OperationID: "list_balances", Method: http.MethodGet, Path: "/v1/ledger/balances",
		Summary: "Account balances from the balance table, by account ID (admin)", Tags: tags, Security: bearerAuth,
		Description: "Reads the balances the ledger moves in the same transaction as each transfer, a page at a time, " +
			"without the full scan of check_ledger (which also compares them with the entries)."},
		func(ctx context.Context, in *struct {
			Kind     string `query:"kind" enum:"rail_clearing,escrow,supplier_payable,buyer_refundable,fee_revenue,guarantee_fund,supplier_receivable,suspense,payouts_in_transit,loan_receivable,lender_funding,credit_loss" doc:"Only accounts of this kind."`
			Currency string `query:"currency" pattern:"^[A-Z]{3}$" doc:"Only accounts in this currency (ISO 4217)."`
			After    string `query:"after" maxLength:"300" doc:"The next_cursor of the previous page: an account ID."`
			Limit    int    `query:"limit" minimum:"1" maximum:"100" default:"50" doc:"Accounts per page (at most 100)."`
		}) (*struct{ Body balancePage }, error) {
			if in.Currency != "" {
				if _, err := money.ParseCurrency(in.Currency); err != nil {
					return nil, newProblem(http.StatusUnprocessableEntity, "unknown_currency", fmt.Sprintf("unknown currency %q", in.Currency),
						&huma.ErrorDetail{Location: "query.currency", Message: "not an ISO 4217 currency", Value: in.Currency})
				}
			}
			bs, next, err := s.svc.BalancesPage(ctx, actor(ctx), escrow.BalanceFilter{Kind: ledger.Kind(in.Kind),
				Currency: money.Currency(in.Currency), After: in.After, Limit: in.Limit})
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &struct{ Body balancePage }{balancePage{Items: bs, NextCursor: next}}, nil
		})
	huma.Register(a, huma.Operation{OperationID: "check_ledger", Method: http.MethodGet, Path: "/v1/ledger/check",
		Summary: "Verify every ledger invariant and audit chain; with the trial balance (admin)", Tags: tags, Security: bearerAuth},
		func(ctx context.Context, _ *struct{}) (*struct{ Body escrow.CheckReport }, error) {
			if actor(ctx).Role != trade.RoleAdmin {
				return nil, s.fail(ctx, fault.New(fault.Forbidden, "role_not_allowed", "only an admin reads the ledger"))
			}
			rep, err := s.svc.CheckLedger(ctx)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &struct{ Body escrow.CheckReport }{rep}, nil
		})
}

// eligibilityBody is the body of set_eligibility.
type eligibilityBody struct {
	Eligible bool   `json:"eligible"`
	Reason   string `json:"reason" maxLength:"2000"`
}

// coverageLimitBody is the body of set_coverage_limit.
type coverageLimitBody struct {
	Limit money.Amount `json:"limit"`
}

// apiKeyOut answers create_api_key: 201 with the token, or 200 replayed without it.
type apiKeyOut struct {
	Status int
	Body   APIKeyIssued
}

// APIKeyIssued is an issued API key: its token when it is issued, never after.
type APIKeyIssued struct {
	Token    string        `json:"token,omitempty" doc:"Send as Authorization: Bearer <token>. Only in the 201 that issues the key: it is never stored, so it cannot be shown again."`
	Key      access.APIKey `json:"key"`
	Replayed bool          `json:"replayed" doc:"True in the 200 answering a retry with the same Idempotency-Key: the key was issued before and its token is not shown again."`
}
