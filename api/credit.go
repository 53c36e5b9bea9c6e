package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/tradeassure/tradeassure/credit"
	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/trade"
)

// Pay Later (R11): apply for a line of credit, read it, finance an order payment by accepting a
// loan agreement, read the loan and its schedule, pay it off early, and download the monthly
// statement. See docs/pay-later.md.

// ApplicationView is a credit application as the API shows it: identifiers masked.
type ApplicationView struct {
	ID          string              `json:"id"`
	BuyerID     string              `json:"buyer_id"`
	Channel     credit.Channel      `json:"channel"`
	OrderID     string              `json:"order_id,omitempty"`
	Status      string              `json:"status" doc:"submitted, approved, declined or more_information_needed."`
	SubmittedAt time.Time           `json:"submitted_at"`
	Decision    *CreditDecisionView `json:"decision,omitempty" doc:"The lender's decision with every reason; absent while submitted."`
	// EarlierDecisions are the requests for more information this application answered.
	EarlierDecisions []CreditDecisionView `json:"earlier_decisions,omitempty" doc:"The requests for more information this application answered, oldest first."`
	Business         struct {
		LegalName   string        `json:"legal_name"`
		EINLast4    string        `json:"ein_last4,omitempty"`
		Country     string        `json:"country"`
		State       string        `json:"state,omitempty"`
		Established string        `json:"established,omitempty"`
		Revenue     *money.Amount `json:"annual_revenue,omitempty"`
	} `json:"business"`
}

// CreditDecisionView is the lender's decision on an application.
type CreditDecisionView struct {
	Status           string             `json:"status" doc:"approved, declined or more_information_needed."`
	Limit            money.Amount       `json:"limit" doc:"Zero unless approved."`
	Reasons          []credit.Reason    `json:"reasons" doc:"Why: every failed rule of a decline, everything missing, or how an approval's limit was set."`
	Rates            credit.FeeSchedule `json:"rates" doc:"Monthly fee rates in millionths of the original principal: early (months 1-2, 1.25-2.75%), late (from month 3, 0.25-0.75%)."`
	FirstMonthCredit money.Amount       `json:"first_month_credit"`
	DecidedAt        time.Time          `json:"decided_at"`
}

func applicationView(a credit.Application) ApplicationView {
	v := ApplicationView{ID: a.ID, BuyerID: a.BuyerID, Channel: a.Channel, OrderID: a.OrderID, Status: string(a.Status),
		SubmittedAt: a.SubmittedAt}
	decision := func(d credit.Decision) CreditDecisionView {
		return CreditDecisionView{Status: string(d.Status), Limit: d.Limit, Reasons: d.Reasons, Rates: d.Rates,
			FirstMonthCredit: d.FirstMonthCredit, DecidedAt: d.DecidedAt}
	}
	if d := a.Decision; d != nil {
		dv := decision(*d)
		v.Decision = &dv
	}
	for _, d := range a.EarlierDecisions {
		v.EarlierDecisions = append(v.EarlierDecisions, decision(d))
	}
	b := a.Business
	v.Business.LegalName, v.Business.EINLast4, v.Business.Country, v.Business.State = b.LegalName, string(b.EINLast4), b.Country, b.State
	if !b.Established.IsZero() {
		v.Business.Established = b.Established.Format(time.DateOnly)
	}
	v.Business.Revenue = b.Revenue
	return v
}

// CreditLineView is a line of credit with what is available on it.
type CreditLineView struct {
	credit.Line
	Available money.Amount `json:"available" doc:"limit − used − reserved."`
}

func lineView(l credit.Line) CreditLineView { return CreditLineView{Line: l, Available: l.Available()} }

// LoanView is a loan with its live schedule and what it costs now.
type LoanView struct {
	escrow.LoanRecord
	Balance              money.Amount `json:"balance" doc:"What the buyer owes now: the loan's statement balance."`
	PrincipalOutstanding money.Amount `json:"principal_outstanding"`
	DueNow               money.Amount `json:"due_now" doc:"What the next automatic debit would collect now, overdue installments included."`
	PayoffQuote          money.Amount `json:"payoff_quote" doc:"What paying the loan off now costs."`
	QuotedAt             time.Time    `json:"quoted_at"`
}

func (s *Server) loanView(l escrow.LoanRecord) LoanView {
	now := s.svc.Now()
	v := LoanView{LoanRecord: l, Balance: l.Balance(), PrincipalOutstanding: l.PrincipalOutstanding(),
		DueNow: l.Due(now), PayoffQuote: l.Quote(now), QuotedAt: now}
	if l.State.Terminal() || l.DisbursedAt.IsZero() {
		v.DueNow, v.PayoffQuote = money.Zero(credit.USD), money.Zero(credit.USD)
	}
	return v
}

type loanOut struct{ Body LoanView }

func (s *Server) loanOut(ctx context.Context, l escrow.LoanRecord, err error) (*loanOut, error) {
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return &loanOut{s.loanView(l)}, nil
}

// applicationBody is what a buyer sends to apply. Full identifiers may be sent; only their last
// four digits are kept, and the owner's birth year rather than the date.
type applicationBody struct {
	Channel  string `json:"channel" enum:"checkout,in_advance" doc:"At checkout (name the order) or in advance."`
	OrderID  string `json:"order_id,omitempty" maxLength:"64"`
	Business struct {
		LegalName     string        `json:"legal_name" maxLength:"200"`
		EIN           string        `json:"ein,omitempty" maxLength:"20" doc:"The employer identification number (9 digits); only the last four are kept."`
		Country       string        `json:"country" pattern:"^[A-Z]{2}$" doc:"ISO 3166-1 alpha-2. Pay Later is for US businesses only."`
		State         string        `json:"state,omitempty" maxLength:"2"`
		Established   string        `json:"established,omitempty" pattern:"^[0-9]{4}-[0-9]{2}-[0-9]{2}$" doc:"The date the business started."`
		AnnualRevenue *money.Amount `json:"annual_revenue,omitempty" doc:"In USD."`
	} `json:"business"`
	Owner struct {
		Name      string `json:"name" maxLength:"200"`
		Title     string `json:"title,omitempty" maxLength:"100"`
		BirthYear int    `json:"birth_year,omitempty" minimum:"0" maximum:"9999"`
		SSN       string `json:"ssn,omitempty" maxLength:"20" doc:"The owner's SSN (9 digits); only the last four are kept."`
	} `json:"owner"`
	Accounts []struct {
		Kind          string `json:"kind" enum:"business_checking,accounting,marketplace,psp"`
		Institution   string `json:"institution" maxLength:"200"`
		AccountNumber string `json:"account_number,omitempty" maxLength:"34" doc:"Only the last four digits are kept."`
	} `json:"accounts" maxItems:"10" doc:"Link a business checking account: repayments are debited from it."`
	Consent struct {
		Given       bool   `json:"given" doc:"The owner consents to the credit check and the automatic debits."`
		TextVersion string `json:"text_version" maxLength:"40"`
	} `json:"consent"`
}

// application turns the body into the domain's application, masking every identifier here, at
// the edge: full numbers never go further.
func (b *applicationBody) application(now time.Time) (credit.Application, error) {
	app := credit.Application{Channel: credit.Channel(b.Channel), OrderID: b.OrderID,
		Business: credit.Business{LegalName: b.Business.LegalName, Country: b.Business.Country, State: b.Business.State,
			Revenue: b.Business.AnnualRevenue},
		Owner:   credit.Owner{Name: b.Owner.Name, Title: b.Owner.Title, BirthYear: b.Owner.BirthYear},
		Consent: credit.Consent{Given: b.Consent.Given, TextVersion: b.Consent.TextVersion}}
	if b.Consent.Given {
		app.Consent.At = now
	}
	var err error
	if b.Business.EIN != "" {
		if app.Business.EINLast4, err = credit.MaskDigits("business.ein", b.Business.EIN, 9, 9); err != nil {
			return app, err
		}
	}
	if b.Owner.SSN != "" {
		if app.Owner.SSNLast4, err = credit.MaskDigits("owner.ssn", b.Owner.SSN, 9, 9); err != nil {
			return app, err
		}
	}
	if b.Business.Established != "" {
		d, err := time.Parse(time.DateOnly, b.Business.Established)
		if err != nil {
			return app, fault.FieldErr("business.established", "invalid_date", "give the date as YYYY-MM-DD")
		}
		app.Business.Established = d
	}
	for i, a := range b.Accounts {
		la := credit.LinkedAccount{Kind: credit.AccountKind(a.Kind), Institution: a.Institution}
		if a.AccountNumber != "" {
			if la.Mask, err = credit.MaskDigits("accounts["+strconv.Itoa(i)+"].account_number", a.AccountNumber, 4, 17); err != nil {
				return app, err
			}
		}
		app.Accounts = append(app.Accounts, la)
	}
	return app, nil
}

// buyerParam resolves ?buyer_id=: a buyer reads its own (naming another buyer finds nothing),
// an admin names the buyer.
func buyerParam(a trade.Actor, buyerID string) (string, error) {
	if a.Role == trade.RoleBuyer && buyerID != "" && buyerID != a.OrgID {
		return "", fault.New(fault.NotFound, "credit_line_not_found", "no such credit line")
	}
	return buyerID, nil
}

func (s *Server) registerCredit(a huma.API) {
	tags := []string{"Pay Later"}
	huma.Register(a, huma.Operation{OperationID: "apply_for_credit", Method: http.MethodPost, Path: "/v1/credit/applications",
		Summary: "Apply for a Pay Later line of credit, at checkout or in advance (R11; buyer)", Tags: tags, Security: bearerAuth,
		DefaultStatus: http.StatusAccepted, Description: "The application is stored as submitted and sent to the lender by " +
			"the lender worker, outside the request: read it again (GET /v1/credit/applications/{id}) for the decision — " +
			"approved (with a limit of up to US$150,000; the line opens), declined or more information needed, always " +
			"with every reason. US businesses only (the buyer's registered country: pay_later_us_only, country_mismatch); " +
			"USD only; one application being decided at a time (credit_application_pending)."},
		func(ctx context.Context, in *struct {
			IdempotencyKey string `header:"Idempotency-Key" required:"true" minLength:"1" maxLength:"255"`
			Body           applicationBody
		}) (*struct {
			Body struct {
				Application ApplicationView `json:"application"`
				Line        *CreditLineView `json:"line,omitempty" doc:"The line an approval opened."`
			}
		}, error) {
			app, err := in.Body.application(s.svc.Now())
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			res, err := s.svc.ApplyForCredit(ctx, actor(ctx), in.IdempotencyKey, app)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			out := &struct {
				Body struct {
					Application ApplicationView `json:"application"`
					Line        *CreditLineView `json:"line,omitempty" doc:"The line an approval opened."`
				}
			}{}
			out.Body.Application = applicationView(res.Application)
			if res.Line != nil {
				v := lineView(*res.Line)
				out.Body.Line = &v
			}
			return out, nil
		})
	huma.Register(a, huma.Operation{OperationID: "get_credit_application", Method: http.MethodGet, Path: "/v1/credit/applications/{id}",
		Summary: "One credit application with the lender's decision, once recorded (buyer; admin)", Tags: tags, Security: bearerAuth},
		func(ctx context.Context, in *struct {
			ID string `path:"id" maxLength:"64"`
		}) (*struct{ Body ApplicationView }, error) {
			app, err := s.svc.CreditApplication(ctx, actor(ctx), in.ID)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &struct{ Body ApplicationView }{applicationView(app)}, nil
		})
	huma.Register(a, huma.Operation{OperationID: "supply_credit_information", Method: http.MethodPost,
		Path: "/v1/credit/applications/{id}/information", DefaultStatus: http.StatusAccepted, Tags: tags, Security: bearerAuth,
		Summary: "Give the lender what it asked for on an application that needs more information (R11; buyer)",
		Description: "The same application goes back to submitted and the lender decides it again; the request for " +
			"more information is kept in earlier_decisions. Only an application in more_information_needed can be " +
			"completed (application_not_awaiting_information); give at least one field (nothing_supplied)."},
		func(ctx context.Context, in *struct {
			ID             string `path:"id" maxLength:"64"`
			IdempotencyKey string `header:"Idempotency-Key" required:"true" minLength:"1" maxLength:"255"`
			Body           supplementBody
		}) (*struct{ Body ApplicationView }, error) {
			sup, err := in.Body.supplement()
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			res, err := s.svc.SupplyCreditInformation(ctx, actor(ctx), in.IdempotencyKey, in.ID, sup)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &struct{ Body ApplicationView }{applicationView(res.Application)}, nil
		})
	huma.Register(a, huma.Operation{OperationID: "list_credit_applications", Method: http.MethodGet, Path: "/v1/credit/applications",
		Summary: "Your credit applications with their decisions, newest first, a page at a time (buyer; admin names the buyer)",
		Tags:    tags, Security: bearerAuth},
		func(ctx context.Context, in *struct {
			BuyerID string `query:"buyer_id" maxLength:"64"`
			After   string `query:"after" maxLength:"64" doc:"The next_cursor of the previous page."`
			Limit   int    `query:"limit" minimum:"1" maximum:"100" default:"50" doc:"Items per page (at most 100)."`
		}) (*struct{ Body applicationPage }, error) {
			id, err := buyerParam(actor(ctx), in.BuyerID)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			apps, next, err := s.svc.CreditApplicationsPage(ctx, actor(ctx), id, in.After, in.Limit)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			page := applicationPage{Items: make([]ApplicationView, len(apps)), NextCursor: next}
			for i, x := range apps {
				page.Items[i] = applicationView(x)
			}
			return &struct{ Body applicationPage }{page}, nil
		})
	huma.Register(a, huma.Operation{OperationID: "get_credit_line", Method: http.MethodGet, Path: "/v1/credit/line",
		Summary: "Your line of credit: limit, used, reserved, available, status (R11; buyer; admin names the buyer)",
		Tags:    tags, Security: bearerAuth},
		func(ctx context.Context, in *struct {
			BuyerID string `query:"buyer_id" maxLength:"64"`
		}) (*struct{ Body CreditLineView }, error) {
			id, err := buyerParam(actor(ctx), in.BuyerID)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			l, err := s.svc.CreditLine(ctx, actor(ctx), id)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &struct{ Body CreditLineView }{lineView(l)}, nil
		})
	huma.Register(a, huma.Operation{OperationID: "list_loans", Method: http.MethodGet, Path: "/v1/credit/loans",
		Summary: "The loans of your line, with their schedules, by ID, a page at a time (buyer; admin names the buyer)",
		Tags:    tags, Security: bearerAuth},
		func(ctx context.Context, in *struct {
			BuyerID string `query:"buyer_id" maxLength:"64"`
			After   string `query:"after" maxLength:"64" doc:"The next_cursor of the previous page."`
			Limit   int    `query:"limit" minimum:"1" maximum:"100" default:"50" doc:"Items per page (at most 100)."`
		}) (*struct{ Body loanPage }, error) {
			id, err := buyerParam(actor(ctx), in.BuyerID)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			ls, next, err := s.svc.LoansPage(ctx, actor(ctx), id, in.After, in.Limit)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			page := loanPage{Items: make([]LoanView, len(ls)), NextCursor: next}
			for i, l := range ls {
				page.Items[i] = s.loanView(l)
			}
			return &struct{ Body loanPage }{page}, nil
		})
	s.registerStatements(a, tags)
	s.registerBankDebits(a, tags)
	huma.Register(a, huma.Operation{OperationID: "offer_loan", Method: http.MethodPost, Path: "/v1/orders/{id}/pay-later/offers",
		Summary: "Get the loan agreement that finances the order's pending Pay Later payment (R11; buyer)", Tags: tags,
		Security: bearerAuth, DefaultStatus: http.StatusCreated, Description: "Pay the installment with method pay_later " +
			"first. The agreement shows the principal, each installment with its fee and the first-month credit, the total " +
			"cost and when the lender will pay; it is valid today and reserves nothing until accepted."},
		func(ctx context.Context, in *struct {
			ID             string `path:"id" maxLength:"64" doc:"The order ID."`
			IdempotencyKey string `header:"Idempotency-Key" required:"true" minLength:"1" maxLength:"255"`
			Body           struct {
				TermMonths int `json:"term_months" minimum:"1" maximum:"6" doc:"1 to 6 months."`
			}
		}) (*loanOut, error) {
			l, err := s.svc.OfferLoan(ctx, actor(ctx), in.IdempotencyKey, in.ID, in.Body.TermMonths)
			return s.loanOut(ctx, l, err)
		})
	huma.Register(a, huma.Operation{OperationID: "get_loan", Method: http.MethodGet, Path: "/v1/loans/{id}",
		Summary: "A loan: its agreement, live schedule, postings, balance and payoff quote (its buyer, admin)", Tags: tags, Security: bearerAuth},
		func(ctx context.Context, in *struct {
			ID string `path:"id" maxLength:"64"`
		}) (*loanOut, error) {
			l, err := s.svc.Loan(ctx, actor(ctx), in.ID)
			return s.loanOut(ctx, l, err)
		})
	loanCmd := func(verb, summary string, do func(context.Context, trade.Actor, string, string) (escrow.LoanRecord, error)) {
		status, description := http.StatusOK, ""
		if verb == "pay-off" { // the debit outbox: the bank answers later (docs/pay-later.md)
			status, description = http.StatusAccepted, "The payoff is requested from your bank: the loan returned shows it in "+
				"bank_debit (status requested) and is paid off once the bank has paid; read it again with GET /v1/loans/{id}. "+
				"Asking again while it is pending returns the same request; while a due-date debit is pending, 409 debit_pending."
		}
		huma.Register(a, huma.Operation{OperationID: strings.ReplaceAll(verb, "-", "_") + "_loan", Method: http.MethodPost,
			Path: "/v1/loans/{id}/" + verb, Summary: summary, Description: description, DefaultStatus: status, Tags: tags, Security: bearerAuth},
			func(ctx context.Context, in *struct {
				ID             string `path:"id" maxLength:"64" doc:"The loan ID."`
				IdempotencyKey string `header:"Idempotency-Key" required:"true" minLength:"1" maxLength:"255"`
				Body           struct{}
			}) (*loanOut, error) {
				l, err := do(ctx, actor(ctx), in.IdempotencyKey, in.ID)
				return s.loanOut(ctx, l, err)
			})
	}
	loanCmd("accept", "Accept the loan agreement: the credit is reserved and the lender pays the order's escrow in 2 US "+
		"business days; the order counts as paid then (R11; buyer)", s.svc.AcceptLoan)
	loanCmd("cancel", "Withdraw the agreement before the lender pays; the reservation is given back (buyer, admin)", s.svc.CancelLoan)
	loanCmd("pay-off", "Ask to repay the whole loan now, for its payoff quote, debited from your business checking account (R11; buyer)",
		s.svc.PayOffLoan)
	loanCmd("charge-off", "Charge off a past-due loan before its timer does (120 days past due): the lender collects "+
		"what it owes directly, the line closes, the loan book moves the balance to the lender's credit loss (R11; admin)",
		s.svc.ChargeOffLoan)
	huma.Register(a, huma.Operation{OperationID: "set_sandbox_bank", Method: http.MethodPost, Path: "/v1/credit/sandbox-bank",
		Summary: "Make the sandbox bank refuse a buyer's automatic debits, or pay them again (admin; sandbox only)", Tags: tags,
		Security: bearerAuth,
		Description: "Only with the sandbox on (serve --sandbox or --demo): 409 sandbox_bank_disabled otherwise. buyer_id " +
			"names a buyer of the platform (404 organization_not_found, 409 not_a_buyer otherwise). The setting " +
			"is stored, so every process sharing the database uses it. Takes an Idempotency-Key like every POST, but needs " +
			"no record of it: it sets a flag, so a retry (with any key) sets it to the same value."},
		func(ctx context.Context, in *struct {
			IdempotencyKey string `header:"Idempotency-Key" required:"true" minLength:"1" maxLength:"255"`
			Body           struct {
				BuyerID string `json:"buyer_id" maxLength:"64"`
				Fail    bool   `json:"fail"`
			}
		}) (*struct{ Body sandboxBankView }, error) {
			if actor(ctx).Role != trade.RoleAdmin {
				return nil, s.fail(ctx, fault.New(fault.Forbidden, "role_not_allowed", "only an admin configures the sandbox bank"))
			}
			b, ok := s.svc.SandboxBank()
			if !ok {
				return nil, s.fail(ctx, fault.New(fault.Conflict, "sandbox_bank_disabled",
					"the sandbox is off: repayments wait for the bank's answer, recorded by an operator"))
			}
			if in.Body.BuyerID != "" { // a buyer of this platform: a typo would set a flag no debit ever reads
				o, err := s.svc.Org(ctx, in.Body.BuyerID)
				if err != nil {
					return nil, s.fail(ctx, err)
				}
				if o.Kind != trade.KindBuyer {
					return nil, s.fail(ctx, fault.New(fault.Conflict, "not_a_buyer", "only a buyer's debits go to the bank"))
				}
			}
			if err := b.SetFailing(ctx, in.Body.BuyerID, in.Body.Fail); err != nil {
				return nil, s.fail(ctx, err)
			}
			return &struct{ Body sandboxBankView }{sandboxBankView{BuyerID: in.Body.BuyerID, Fail: in.Body.Fail, Sandbox: true}}, nil
		})
}

// sandboxBankView is the sandbox bank's setting for one buyer.
type sandboxBankView struct {
	BuyerID string `json:"buyer_id"`
	Fail    bool   `json:"fail" doc:"The sandbox refuses the buyer's debits."`
	Sandbox bool   `json:"sandbox" doc:"Always true: the sandbox bank is simulated, no money moves."`
}

// supplementBody is what a buyer adds to an application that needs more information.
type supplementBody struct {
	EIN           string        `json:"ein,omitempty" maxLength:"20" doc:"The employer identification number (9 digits); only the last four are kept."`
	Established   string        `json:"established,omitempty" pattern:"^[0-9]{4}-[0-9]{2}-[0-9]{2}$" doc:"The date the business started."`
	AnnualRevenue *money.Amount `json:"annual_revenue,omitempty" doc:"In USD."`
}

func (b *supplementBody) supplement() (credit.Supplement, error) {
	sup := credit.Supplement{Revenue: b.AnnualRevenue}
	if b.EIN != "" {
		l, err := credit.MaskDigits("business.ein", b.EIN, 9, 9)
		if err != nil {
			return sup, err
		}
		sup.EINLast4 = l
	}
	if b.Established != "" {
		d, err := time.Parse(time.DateOnly, b.Established)
		if err != nil {
			return sup, fault.FieldErr("business.established", "invalid_date", "give the date as YYYY-MM-DD")
		}
		sup.Established = d
	}
	return sup, nil
}

// statementBody is a statement download: CSV, JSON or PDF bytes with their type.
type statementBody struct {
	ContentType        string `header:"Content-Type"`
	ContentDisposition string `header:"Content-Disposition"`
	Body               []byte
}

// registerStatements serves the monthly statements (R11): one month as CSV, JSON or PDF, and
// the list of closed months.
func (s *Server) registerStatements(a huma.API, tags []string) {
	huma.Register(a, huma.Operation{OperationID: "get_credit_statement", Method: http.MethodGet, Path: "/v1/credit/statements/{period}",
		Summary: "The monthly statement of your line, as CSV (the default), JSON or PDF (R11; buyer; admin names the buyer)",
		Description: "A month closes at 00:00 UTC on the 1st of the next month, when its statement is stored for good " +
			"(status closed); the current month is computed on request (status in_progress). Anyone but the buyer and an " +
			"admin, and a month not begun or before the line opened, gets 404 credit_statement_not_found.",
		Tags: tags, Security: bearerAuth},
		func(ctx context.Context, in *struct {
			Period  string `path:"period" pattern:"^[0-9]{4}-[0-9]{2}$" doc:"The month, YYYY-MM (UTC)."`
			Format  string `query:"format" enum:"csv,json,pdf" default:"csv"`
			BuyerID string `query:"buyer_id" maxLength:"64"`
		}) (*statementBody, error) {
			p, err := credit.ParsePeriod(in.Period)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			id, err := buyerParam(actor(ctx), in.BuyerID)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			st, err := s.svc.CreditStatement(ctx, actor(ctx), id, p)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			name := `attachment; filename="statement-` + p.String()
			switch in.Format {
			case "json":
				b, err := json.Marshal(st)
				if err != nil {
					return nil, s.fail(ctx, err)
				}
				return &statementBody{ContentType: "application/json", Body: b}, nil
			case "pdf":
				b, err := st.PDF()
				if err != nil {
					return nil, s.fail(ctx, err)
				}
				return &statementBody{ContentType: "application/pdf", ContentDisposition: name + `.pdf"`, Body: b}, nil
			}
			return &statementBody{ContentType: "text/csv; charset=utf-8", ContentDisposition: name + `.csv"`, Body: st.CSV()}, nil
		})
	huma.Register(a, huma.Operation{OperationID: "list_credit_statements", Method: http.MethodGet, Path: "/v1/credit/statements",
		Summary:     "Your closed monthly statements, newest first, a page at a time (R11; buyer; admin names the buyer)",
		Description: "The current month's statement, in progress, is GET /v1/credit/statements/{period}.",
		Tags:        tags, Security: bearerAuth},
		func(ctx context.Context, in *struct {
			BuyerID string `query:"buyer_id" maxLength:"64"`
			After   string `query:"after" maxLength:"80" doc:"The next_cursor of the previous page (YYYY-MM/line_id)."`
			Limit   int    `query:"limit" minimum:"1" maximum:"100" default:"50" doc:"Items per page (at most 100)."`
		}) (*struct{ Body statementPage }, error) {
			id, err := buyerParam(actor(ctx), in.BuyerID)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			after, err := escrow.ParseStatementKey(in.After)
			if err != nil {
				return nil, newProblem(http.StatusUnprocessableEntity, "invalid_cursor", "pass the next_cursor of the previous page",
					&huma.ErrorDetail{Location: "query.after", Message: "not a cursor of this list", Value: in.After})
			}
			sts, next, err := s.svc.CreditStatementsPage(ctx, actor(ctx), id, after, in.Limit)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &struct{ Body statementPage }{statementPage{Items: sts, NextCursor: next}}, nil
		})
}

// applicationPage is a page of a buyer's credit applications.
type applicationPage struct {
	Items      []ApplicationView `json:"items"`
	NextCursor string            `json:"next_cursor,omitempty" doc:"Pass as ?after= for the next page; absent on the last page."`
}

// loanPage is a page of the loans of a buyer's line.
type loanPage struct {
	Items      []LoanView `json:"items"`
	NextCursor string     `json:"next_cursor,omitempty" doc:"Pass as ?after= for the next page; absent on the last page."`
}

// statementPage is a page of a buyer's closed statements.
type statementPage struct {
	Items      []credit.Statement `json:"items"`
	NextCursor string             `json:"next_cursor,omitempty" doc:"Pass as ?after= for the next page; absent on the last page."`
}
