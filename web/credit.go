package web

import (
	"context"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tradeassure/tradeassure/credit"
	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/payment"
	"github.com/tradeassure/tradeassure/trade"
)

// Pay Later in the portal (R11): a US business buyer applies for a line of credit (in advance
// from /credit, or at checkout from the order's pay form), finances an order payment by choosing
// a term and accepting the lender's loan agreement, follows the disbursement on the order page,
// and repays — automatically on each due date, or early from the credit page. Every number shown
// (limits, fees, installments, payoff quotes, statements) is the domain's: the portal formats,
// it never computes. See docs/pay-later.md and docs/portal.md.

// Limits of the Pay Later pages.
const (
	// AccountRows is how many linked accounts the application form offers: business checking
	// plus two more (the API takes up to credit.LinkedAccountsMax).
	AccountRows = 3
	// LoansPageSize is how many loans one page of the credit page lists, in the order they were
	// taken out (escrow.Service.LoansPage, by ID); "Next page of loans" leads on.
	LoansPageSize = 10
	// StatementsPageSize is how many closed monthly statements one page of the credit page lists,
	// newest month first (escrow.Service.CreditStatementsPage); the first page begins with this
	// month's, in progress.
	StatementsPageSize = 12
	// ApplicationsPageSize is how many applications one page of the credit page lists, newest
	// first (escrow.Service.CreditApplicationsPage).
	ApplicationsPageSize = 10
	// ConsentTextVersion labels the consent text the application form shows; it is stored with
	// the application, so a changed text gets a new label.
	ConsentTextVersion = "portal-2026-03"
)

// creditPageSizes are the page sizes in force: the constants above, lowered by tests to page a
// few items.
var creditPageSizes = struct{ loans, statements, applications int }{LoansPageSize, StatementsPageSize, ApplicationsPageSize}

// The query parameters that page the credit page's lists, each by its own cursor: the last
// item of the previous page, as the escrow page methods return it.
const (
	loansAfter        = "loans_after"
	statementsAfter   = "statements_after"
	applicationsAfter = "applications_after"
)

func init() {
	// Dates of the US rails (due dates, the disbursement) are New York dates: show them in the
	// zone they were computed in, not in UTC.
	funcs["railday"] = func(t time.Time) string { return t.Format("Mon 2 Jan 2006") }
	funcs["rate"] = func(r money.Rate) string { return r.String() }
	funcs["mask"] = func(l credit.Last4) string { return l.String() }
	funcs["payLaterMax"] = func() money.Amount { return credit.LimitMax }
}

// creditRoutes registers the pages for Pay Later: credit application, line, loans and statements.
func (s *Server) creditRoutes(app *http.ServeMux) {
	app.Handle("GET /credit", s.auth(s.creditPage))
	app.Handle("GET /credit/card", s.auth(s.creditCard))
	app.Handle("GET /credit/apply", s.auth(s.applyPage))
	app.Handle("POST /credit/apply", s.auth(s.apply))
	app.Handle("GET /credit/applications/{id}", s.auth(s.applicationPage))
	app.Handle("POST /credit/applications/{id}/information", s.auth(s.supplyInformation))
	app.Handle("GET /credit/statements/{file}", s.auth(s.statementFile))
	app.Handle("GET /credit/loans/{id}", s.auth(s.loanPage))
	app.Handle("POST /credit/loans/{id}/{step}", s.auth(s.loanStep))
	app.Handle("POST /orders/{id}/pay-later", s.auth(s.offerLoan))
}

// creditViewer resolves whose line a request is about: a buyer's own, or for an admin the
// buyer named by ?buyer= (read-only). Other roles get a refusal page; ok is false then.
func (s *Server) creditViewer(w http.ResponseWriter, r *http.Request) (buyerID string, readOnly, ok bool) {
	a := actorOf(r)
	switch a.Role {
	case trade.RoleBuyer:
		return a.OrgID, false, true
	case trade.RoleAdmin:
		return r.URL.Query().Get("buyer"), true, true
	}
	s.render(w, r, http.StatusForbidden, "error.html", "Not available",
		errorData{Message: "Pay Later is for buyers; platform staff may view a buyer's line."})
	return "", false, false
}

// creditData is the credit page: a buyer's line with its loans and statements, or the way to
// apply; for an admin, the buyers to choose from.
type creditData struct {
	View       string // "line" or "loan"
	ReadOnly   bool
	BuyerID    string
	BuyerQuery string // "?buyer=…" for an admin's links, "" for a buyer
	Buyer      trade.Org
	Eligible   string // why the buyer cannot apply, if so (R11: US businesses only)
	Buyers     []trade.Org
	Line       *credit.Line
	Available  money.Amount
	Apps       []credit.Application
	Loans      []loanView
	Ended      []loanView         // cancelled and expired offers, for the record
	Statements []credit.Statement // this month's, in progress (first page only), then the closed months', newest first
	// The links to the other pages of each list.
	AppPages, LoanPages, StatementPages pager
	Loan                                *loanView // the loan page
	Form                                *form
}

// pager is one list's links to its other pages: the first page, on a later one, and the next
// page when another follows.
type pager struct {
	Of    string // what the list holds, to name the links: "loans"
	First string
	Next  string
}

// creditCursors are where each list of the credit page starts: "" (the zero key) for its first
// page. A cursor that is not one starts its list from the first page, as the dashboard does.
type creditCursors struct {
	apps, loans string
	statements  escrow.StatementKey
}

func readCreditCursors(q url.Values) creditCursors {
	var c creditCursors
	if v := q.Get(applicationsAfter); cursorPattern.MatchString(v) {
		c.apps = v
	}
	if v := q.Get(loansAfter); cursorPattern.MatchString(v) {
		c.loans = v
	}
	if k, err := escrow.ParseStatementKey(q.Get(statementsAfter)); err == nil && cursorPattern.MatchString(k.LineID) {
		c.statements = k
	}
	return c
}

// query writes the cursors back as the credit page's query, with the admin's buyer.
func (c creditCursors) query(buyerQuery url.Values) url.Values {
	q := maps.Clone(buyerQuery)
	if q == nil {
		q = url.Values{}
	}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set(applicationsAfter, c.apps)
	set(loansAfter, c.loans)
	if c.statements != (escrow.StatementKey{}) {
		q.Set(statementsAfter, c.statements.String())
	}
	return q
}

// listPager links the pages of the list on the page at path paged by param: the other lists
// stay where the page has them (q), and each link lands on the list's heading (anchor).
func listPager(path string, q url.Values, param, of, anchor string, paged bool, next string) pager {
	link := func(cursor string) string {
		v := maps.Clone(q)
		v.Del(param)
		if cursor != "" {
			v.Set(param, cursor)
		}
		to := path
		if enc := v.Encode(); enc != "" {
			to += "?" + enc
		}
		return to + "#" + anchor
	}
	p := pager{Of: of}
	if paged {
		p.First = link("")
	}
	if next != "" {
		p.Next = link(next)
	}
	return p
}

// loanView is a loan with what it costs now, as the domain says.
type loanView struct {
	escrow.LoanRecord
	Balance     money.Amount
	Outstanding money.Amount
	Quote       money.Amount // the payoff amount now; zero when it cannot be paid off
	CanPayOff   bool
	CanAccept   bool
	CanCancel   bool
	OfferStale  bool   // offered on an earlier day: the lender must offer again
	DebitNote   string // a debit waiting for the bank's answer, or a payoff the bank refused (R11)
	// DisbursementNote says the lender has been asked to pay and its answer is awaited.
	DisbursementNote string
	Form             *form
	CancelForm       *form // a key of its own: accepting and cancelling are different commands
}

// account names the business checking account a debit is taken from.
func account(d *escrow.DebitRequest) string {
	if d.AccountLast4 == "" {
		return "your business checking account"
	}
	return "your account ending ••••" + d.AccountLast4
}

// debitNote says where the loan's newest debit is, while it matters to the buyer: waiting for
// the bank's answer (the debit outbox), or a payoff the bank refused.
func debitNote(l escrow.LoanRecord) string {
	note := debitStatus(l)
	if note != "" && l.BankDebit.Sandbox {
		note += " (Sandbox bank: a simulated answer, no money moves.)"
	}
	return note
}

func debitStatus(l escrow.LoanRecord) string {
	d := l.BankDebit
	switch {
	case d == nil || l.State.Terminal():
		return ""
	case d.Status.Open() && d.Kind == escrow.DebitPayoff:
		return "Payoff requested — debited from " + account(d) + ": " + formatMoney(d.Amount.Minor, d.Amount.Currency) +
			". The loan is paid off once your bank has paid."
	case d.Status.Open():
		return "Automatic debit of " + formatMoney(d.Amount.Minor, d.Amount.Currency) + " requested from " + account(d) +
			" on " + d.RequestedAt.UTC().Format("2 Jan 2006") + "; waiting for your bank's answer."
	case d.Status == escrow.DebitRefused && d.Kind == escrow.DebitPayoff:
		return "Your bank refused the payoff debit of " + formatMoney(d.Amount.Minor, d.Amount.Currency) + " from " + account(d) +
			" on " + d.RequestedAt.UTC().Format("2 Jan 2006") + ". The loan runs on; you may pay off again."
	}
	return ""
}

func (s *Server) loanView(l escrow.LoanRecord, a trade.Actor) loanView {
	now := s.svc.Now()
	v := loanView{LoanRecord: l, Balance: l.Balance(), Outstanding: l.PrincipalOutstanding(),
		Form: newForm(nil), CancelForm: newForm(nil)}
	_, payOff := credit.Lookup(l.State, credit.CmdPayOff)
	_, cancel := credit.Lookup(l.State, credit.CmdCancel)
	buyer := a.Role == trade.RoleBuyer && a.OrgID == l.BuyerID
	if payOff && !l.DisbursedAt.IsZero() {
		v.Quote, v.CanPayOff = l.Quote(now), buyer
	}
	v.DebitNote = debitNote(l)
	if r := l.Disbursement; r != nil && l.State == credit.Agreed && r.Status.Open() {
		v.DisbursementNote = "The lender was asked on " + r.RequestedAt.In(l.Agreement.AgreedAt.Location()).Format("Mon 2 Jan 2006") +
			" to pay " + formatMoney(r.Amount.Minor, r.Amount.Currency) + " into the order's escrow; the order counts as paid once its payment is recorded."
		cancel = false // the lender may be paying right now
	}
	if l.BankDebit != nil && l.BankDebit.Status.Open() {
		v.CanPayOff = false // one debit at a time: the one pending decides what is owed next
	}
	v.CanAccept = buyer && l.State == credit.AgreementPending
	v.CanCancel = cancel && (buyer || a.Role == trade.RoleAdmin)
	if l.State == credit.AgreementPending {
		ag := l.Agreement.AgreedAt
		v.OfferStale = now.In(ag.Location()).Format(time.DateOnly) != ag.Format(time.DateOnly)
		v.CanAccept = v.CanAccept && !v.OfferStale
	}
	return v
}

func (s *Server) creditPage(w http.ResponseWriter, r *http.Request) {
	buyerID, readOnly, ok := s.creditViewer(w, r)
	if !ok {
		return
	}
	ctx, a := r.Context(), actorOf(r)
	d := &creditData{View: "line", ReadOnly: readOnly, BuyerID: buyerID}
	if readOnly && buyerID == "" {
		buyers, err := s.svc.Orgs(ctx, trade.KindBuyer)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		d.Buyers = buyers
		s.render(w, r, http.StatusOK, "credit.html", "Pay Later", d)
		return
	}
	if readOnly {
		d.BuyerQuery = "?buyer=" + url.QueryEscape(buyerID)
	}
	if err := s.creditLine(r, a, d); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "credit.html", "Pay Later", d)
}

// creditLine fills d with the buyer's line and a page of each of its lists (R11): the loans, the
// statements and the applications, each paged by its own cursor of the request's query. Each
// list asks for one more item than a page shows: the one more says a next page exists.
func (s *Server) creditLine(r *http.Request, a trade.Actor, d *creditData) error {
	ctx := r.Context()
	buyer, err := s.svc.Org(ctx, d.BuyerID)
	if err != nil || buyer.Kind != trade.KindBuyer {
		return fault.New(fault.NotFound, "buyer_not_found", "no such buyer")
	}
	d.Buyer = buyer
	if err := credit.CheckEligible(buyer.Country, credit.USD); err != nil {
		d.Eligible = sentence(errMessage(err))
	}
	cur := readCreditCursors(r.URL.Query())
	var viewer url.Values
	if d.ReadOnly {
		viewer = url.Values{"buyer": {d.BuyerID}}
	}
	q := cur.query(viewer)
	apps, _, err := s.svc.CreditApplicationsPage(ctx, a, d.BuyerID, cur.apps, creditPageSizes.applications+1)
	if err != nil {
		return err
	}
	next := ""
	if n := creditPageSizes.applications; len(apps) > n {
		apps, next = apps[:n], apps[n-1].ID
	}
	d.Apps = apps
	d.AppPages = listPager("/credit", q, applicationsAfter, "applications", "apps-h", cur.apps != "", next)
	line, err := s.svc.CreditLine(ctx, a, d.BuyerID)
	if fault.ReasonOf(err) == "credit_line_not_found" {
		return nil
	}
	if err != nil {
		return err
	}
	d.Line, d.Available = &line, line.Available()
	if err := s.creditLoans(ctx, a, d, cur, q); err != nil {
		return err
	}
	return s.creditStatements(ctx, a, d, cur, q)
}

// creditStatements fills d with a page of the buyer's statements: on the first page this
// month's, in progress, then the closed months', newest first.
func (s *Server) creditStatements(ctx context.Context, a trade.Actor, d *creditData, cur creditCursors, q url.Values) error {
	first := cur.statements == (escrow.StatementKey{})
	if first {
		st, err := s.svc.CreditStatement(ctx, a, d.BuyerID, credit.PeriodOf(s.svc.Now()))
		if err != nil {
			return err
		}
		d.Statements = []credit.Statement{st}
	}
	closed, _, err := s.svc.CreditStatementsPage(ctx, a, d.BuyerID, cur.statements, creditPageSizes.statements+1)
	if err != nil {
		return err
	}
	next := ""
	if n := creditPageSizes.statements; len(closed) > n {
		closed, next = closed[:n], escrow.StatementKey{Period: closed[n-1].Period, LineID: closed[n-1].LineID}.String()
	}
	d.Statements = append(d.Statements, closed...)
	d.StatementPages = listPager("/credit", q, statementsAfter, "statements", "statements-h", !first, next)
	return nil
}

// creditLoans fills d with a page of the line's loans, in the order they were taken out: the
// ones running or repaid, and the cancelled agreements for the record. Offers not accepted are
// on their orders' pages.
func (s *Server) creditLoans(ctx context.Context, a trade.Actor, d *creditData, cur creditCursors, q url.Values) error {
	loans, _, err := s.svc.LoansPage(ctx, a, d.BuyerID, cur.loans, creditPageSizes.loans+1)
	if err != nil {
		return err
	}
	next := ""
	if n := creditPageSizes.loans; len(loans) > n {
		loans, next = loans[:n], loans[n-1].ID
	}
	for _, l := range loans {
		v := s.loanView(l, a)
		switch v.State {
		case credit.AgreementPending:
		case credit.LoanCancelled:
			d.Ended = append(d.Ended, v)
		default:
			d.Loans = append(d.Loans, v)
		}
	}
	d.LoanPages = listPager("/credit", q, loansAfter, "loans", "loans-h", cur.loans != "", next)
	return nil
}

// creditCard is the buyer's credit line summary on the dashboard, fetched by htmx.
func (s *Server) creditCard(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	if a.Role != trade.RoleBuyer {
		http.Error(w, "Pay Later is for buyers", http.StatusForbidden)
		return
	}
	d := &creditData{BuyerID: a.OrgID}
	buyer, err := s.svc.Org(ctx, a.OrgID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := credit.CheckEligible(buyer.Country, credit.USD); err != nil {
		d.Eligible = sentence(errMessage(err))
	}
	line, err := s.svc.CreditLine(ctx, a, "")
	switch {
	case err == nil:
		d.Line, d.Available = &line, line.Available()
	case fault.ReasonOf(err) != "credit_line_not_found":
		s.fail(w, r, err)
		return
	}
	s.renderPartial(w, r, "credit.html", "credit-card", d)
}

// statementFile serves a monthly statement for the session's buyer (an admin names the buyer):
// /credit/statements/2026-03.csv or .pdf, the same bytes as the API's ?format=csv or pdf (R11).
func (s *Server) statementFile(w http.ResponseWriter, r *http.Request) {
	buyerID, _, ok := s.creditViewer(w, r)
	if !ok {
		return
	}
	name := r.PathValue("file")
	month, format, _ := strings.Cut(name, ".")
	p, err := credit.ParsePeriod(month)
	if err != nil || (format != "csv" && format != "pdf") {
		s.render(w, r, http.StatusNotFound, "error.html", "Not found",
			errorData{Message: "A statement is named by its month, like 2026-03.csv or 2026-03.pdf."})
		return
	}
	st, err := s.svc.CreditStatement(r.Context(), actorOf(r), buyerID, p)
	if err != nil {
		if e, ok := fault.As(err); ok && e.Code != fault.Internal && e.Code != fault.NotFound {
			s.render(w, r, http.StatusUnprocessableEntity, "error.html", "Statement", errorData{Message: sentence(e.Message)})
			return
		}
		s.fail(w, r, err)
		return
	}
	body, ctype := st.CSV(), "text/csv; charset=utf-8"
	if format == "pdf" {
		if body, err = st.PDF(); err != nil {
			s.fail(w, r, err)
			return
		}
		ctype = "application/pdf"
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", `attachment; filename="statement-`+p.String()+`.`+format+`"`)
	w.Write(body)
}

// applyData is the application form, or why this buyer cannot apply.
type applyData struct {
	Form     *form
	Buyer    trade.Org
	Eligible string // why not, when the buyer cannot apply (R11)
	Order    *trade.Order
	Due      int64 // at checkout: the payment to finance
	Kinds    []credit.AccountKind
	Rows     []int
	Consent  string
	HasLine  bool
}

// consentText is what the owner consents to; ConsentTextVersion labels it.
const consentText = "I am the owner of this business. I consent to the lender checking the business's and my " +
	"credit, and to the automatic debit of every installment from the business checking account linked above."

func (s *Server) applyPage(w http.ResponseWriter, r *http.Request) {
	if actorOf(r).Role != trade.RoleBuyer {
		s.render(w, r, http.StatusForbidden, "error.html", "Not available", errorData{Message: "Only a buyer applies for Pay Later."})
		return
	}
	f := newForm(url.Values{indexed("accounts", 0, "kind"): {string(credit.BusinessChecking)}})
	if id := r.URL.Query().Get("order"); id != "" {
		f.Values.Set("order_id", id)
	}
	s.showApply(w, r, http.StatusOK, f)
}

func (s *Server) showApply(w http.ResponseWriter, r *http.Request, status int, f *form) {
	ctx, a := r.Context(), actorOf(r)
	buyer, err := s.svc.Org(ctx, a.OrgID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := applyData{Form: f, Buyer: buyer, Kinds: credit.AccountKinds, Rows: seq(AccountRows), Consent: consentText}
	if err := credit.CheckEligible(buyer.Country, credit.USD); err != nil {
		d.Eligible = sentence(errMessage(err))
	}
	if _, err := s.svc.CreditLine(ctx, a, ""); err == nil {
		d.HasLine = true
	}
	if id := f.Value("order_id"); id != "" {
		o, err := s.svc.Order(ctx, a, id)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		d.Order = o
		_, d.Due = dueInstallment(o)
	}
	s.render(w, r, status, "credit_apply.html", "Apply for Pay Later", d)
}

func (s *Server) apply(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	if a.Role != trade.RoleBuyer {
		s.render(w, r, http.StatusForbidden, "error.html", "Not available", errorData{Message: "Only a buyer applies for Pay Later."})
		return
	}
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	f := newForm(formValues(r.PostForm))
	f.Values.Del("idempotency_key")
	key, ok := idempotencyKey(r, f)
	if !ok {
		s.showApply(w, r, http.StatusUnprocessableEntity, f)
		return
	}
	buyer, err := s.svc.Org(ctx, a.OrgID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := credit.CheckEligible(buyer.Country, credit.USD); err != nil { // R11: the page explains
		s.showApply(w, r, http.StatusUnprocessableEntity, f)
		return
	}
	app, rows := applicationForm(r.PostForm, f, buyer, s.svc.Now())
	if f.Failed() {
		s.showApply(w, r, http.StatusUnprocessableEntity, f)
		return
	}
	res, err := s.svc.ApplyForCredit(ctx, a, key, app)
	if err != nil {
		if !placeApplicationError(f, err, rows) {
			s.fail(w, r, err)
			return
		}
		s.showApply(w, r, http.StatusUnprocessableEntity, f)
		return
	}
	s.redirect(w, r, "/credit/applications/"+url.PathEscape(res.Application.ID),
		"Application submitted: the lender is deciding. Its answer shows here once it is recorded.")
}

// applicationForm reads the form into the domain's application, masking every identifier here,
// at the edge: only the last four digits of the EIN, SSN and account numbers go further. It
// returns the form rows of the linked accounts that were filled in, to place the domain's
// errors about the n-th account next to its row.
func applicationForm(v url.Values, f *form, buyer trade.Org, now time.Time) (credit.Application, []int) {
	get := func(k string) string { return strings.TrimSpace(v.Get(k)) }
	app := credit.Application{Channel: credit.InAdvance,
		Business: credit.Business{LegalName: get("business.legal_name"), Country: buyer.Country,
			State: strings.ToUpper(get("business.state"))},
		Owner:   credit.Owner{Name: get("owner.name"), Title: get("owner.title")},
		Consent: credit.Consent{Given: get("consent.given") == "yes", At: now, TextVersion: ConsentTextVersion}}
	if id := get("order_id"); id != "" {
		app.Channel, app.OrderID = credit.AtCheckout, id
	}
	// mask keeps the last four digits of an identifier, and puts the masked form back in the
	// form: a form shown again never holds a full number, and posting the mask again keeps it.
	mask := func(name string, lo, hi int, msg string) credit.Last4 {
		x := get(name)
		f.Values.Del(name)
		if x == "" {
			return ""
		}
		if l := credit.Last4(strings.TrimPrefix(x, "••••")); len(x) > len(l) && l.Valid() {
			f.Values.Set(name, l.String())
			return l
		}
		l, err := credit.MaskDigits(name, x, lo, hi)
		if err != nil {
			f.add(name, msg)
			return ""
		}
		f.Values.Set(name, l.String())
		return l
	}
	app.Business.EINLast4 = mask("business.ein", 9, 9, "Give the 9-digit EIN, like 12-3456789.")
	app.Owner.SSNLast4 = mask("owner.ssn", 9, 9, "Give the 9-digit SSN, like 123-45-6789.")
	if x := get("business.established"); x != "" {
		if d, err := time.Parse(time.DateOnly, x); err != nil {
			f.add("business.established", "Give the date the business started.")
		} else {
			app.Business.Established = d
		}
	}
	if x := get("business.revenue"); x != "" {
		if rev, err := money.Parse(strings.ReplaceAll(x, ",", ""), credit.USD); err != nil {
			f.add("business.revenue", "Give an amount in USD, like 250000.00.")
		} else {
			app.Business.Revenue = &rev
		}
	}
	if x := get("owner.birth_year"); x != "" {
		if y, err := strconv.Atoi(x); err != nil || y < 0 || y > 9999 {
			f.add("owner.birth_year", "Give the year as four digits, like 1980.")
		} else {
			app.Owner.BirthYear = y
		}
	}
	var rows []int
	for i := 0; i < AccountRows; i++ {
		inst, num := get(indexed("accounts", i, "institution")), get(indexed("accounts", i, "account_number"))
		if inst == "" && num == "" {
			continue
		}
		acc := credit.LinkedAccount{Kind: credit.AccountKind(get(indexed("accounts", i, "kind"))), Institution: inst}
		acc.Mask = mask(indexed("accounts", i, "account_number"), 4, 17, "Give the account number: 4 to 17 digits.")
		app.Accounts = append(app.Accounts, acc)
		rows = append(rows, i)
	}
	return app, rows
}

// applicationInputs maps the domain's field paths that the form names differently.
var applicationInputs = map[string]string{
	"business.ein_last4": "business.ein",
	"owner.ssn_last4":    "owner.ssn",
}

// placeApplicationError puts a refusal of the application next to its input, or at the top of
// the form when no input is about it (the consent's time, the country). It reports false for
// errors that are not the person's to fix.
func placeApplicationError(f *form, err error, rows []int) bool {
	e, ok := fault.As(err)
	if !ok || e.Code == fault.Internal {
		return false
	}
	field := remapIndex(e.Field, "accounts", rows)
	if in, ok := applicationInputs[field]; ok {
		field = in
	}
	if strings.HasPrefix(field, "accounts[") && strings.HasSuffix(field, "].mask") {
		field = strings.TrimSuffix(field, "mask") + "account_number"
	}
	inputs := []string{"business.legal_name", "business.ein", "business.state", "business.established",
		"business.revenue", "owner.name", "owner.title", "owner.birth_year", "owner.ssn", "consent.given", "accounts"}
	for i := range AccountRows {
		inputs = append(inputs, indexed("accounts", i, "kind"), indexed("accounts", i, "institution"),
			indexed("accounts", i, "account_number"))
	}
	if slices.Contains(inputs, field) {
		f.add(field, sentence(e.Message))
	} else {
		f.Error = sentence(e.Message)
	}
	return true
}

// applicationPage shows an application with the lender's decision and every reason.
func (s *Server) applicationPage(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	buyerID, readOnly, ok := s.creditViewer(w, r)
	if !ok {
		return
	}
	app, err := s.svc.CreditApplication(ctx, a, r.PathValue("id"))
	if err == nil && readOnly && buyerID != "" && app.BuyerID != buyerID {
		err = fault.New(fault.NotFound, "application_not_found", "There is no such application.")
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.showApplication(w, r, http.StatusOK, app, readOnly, nil)
}

func (s *Server) showApplication(w http.ResponseWriter, r *http.Request, status int, app credit.Application, readOnly bool, f *form) {
	ctx, a := r.Context(), actorOf(r)
	d := applicationData{App: app, ReadOnly: readOnly, Form: f, Missing: map[string]bool{}}
	if line, err := s.svc.CreditLine(ctx, a, app.BuyerID); err == nil {
		d.Line, d.Available = &line, line.Available()
	}
	if app.Status == credit.MoreInformationNeeded && app.Decision != nil && !readOnly && d.Line == nil {
		for _, rs := range app.Decision.Reasons {
			if in, ok := missingInputs[rs.Code]; ok {
				d.Missing[in] = true
			}
		}
		if d.Form == nil {
			d.Form = newForm(nil)
		}
	}
	s.render(w, r, status, "credit_application.html", "Your Pay Later application", d)
}

// missingInputs maps the lender's "missing" reasons to the inputs that supply them.
var missingInputs = map[string]string{
	"years_in_business_missing": "business.established",
	"annual_revenue_missing":    "business.revenue",
	"ein_missing":               "business.ein",
}

// applicationData is an application and its decision, with the form that completes it when the
// lender needs more information.
type applicationData struct {
	App       credit.Application
	ReadOnly  bool
	Line      *credit.Line
	Available money.Amount
	Form      *form
	Missing   map[string]bool // the inputs the lender asked for
}

// supplyInformation sends what the lender asked for to the same application (R11): it goes back
// to submitted and the lender decides again.
func (s *Server) supplyInformation(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	if a.Role != trade.RoleBuyer {
		s.render(w, r, http.StatusForbidden, "error.html", "Not available", errorData{Message: "Only a buyer completes an application."})
		return
	}
	app, err := s.svc.CreditApplication(ctx, a, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	f := newForm(formValues(r.PostForm))
	f.Values.Del("idempotency_key")
	key, ok := idempotencyKey(r, f)
	if !ok {
		s.showApplication(w, r, http.StatusUnprocessableEntity, app, false, f)
		return
	}
	sup := supplementForm(r.PostForm, f)
	if f.Failed() {
		s.showApplication(w, r, http.StatusUnprocessableEntity, app, false, f)
		return
	}
	if _, err := s.svc.SupplyCreditInformation(ctx, a, key, app.ID, sup); err != nil {
		e, ok := fault.As(err)
		if !ok || e.Code == fault.Internal {
			s.fail(w, r, err)
			return
		}
		switch field := applicationInputs[e.Field]; {
		case field != "":
			f.add(field, sentence(e.Message))
		case slices.Contains([]string{"business.established", "business.revenue", "business.ein"}, e.Field):
			f.add(e.Field, sentence(e.Message))
		default:
			f.Error = sentence(e.Message)
		}
		s.showApplication(w, r, http.StatusUnprocessableEntity, app, false, f)
		return
	}
	s.redirect(w, r, "/credit/applications/"+url.PathEscape(app.ID), "Sent to the lender: it decides your application again.")
}

// supplementForm reads the information the lender asked for, masking the EIN here, at the edge.
func supplementForm(v url.Values, f *form) credit.Supplement {
	get := func(k string) string { return strings.TrimSpace(v.Get(k)) }
	var sup credit.Supplement
	if x := get("business.established"); x != "" {
		if d, err := time.Parse(time.DateOnly, x); err != nil {
			f.add("business.established", "Give the date the business started.")
		} else {
			sup.Established = d
		}
	}
	if x := get("business.revenue"); x != "" {
		if rev, err := money.Parse(strings.ReplaceAll(x, ",", ""), credit.USD); err != nil {
			f.add("business.revenue", "Give an amount in USD, like 250000.00.")
		} else {
			sup.Revenue = &rev
		}
	}
	f.Values.Del("business.ein")
	if x := get("business.ein"); x != "" {
		if l := credit.Last4(strings.TrimPrefix(x, "••••")); len(x) > len(l) && l.Valid() { // the mask posted again
			sup.EINLast4 = l
			f.Values.Set("business.ein", l.String())
		} else if l, err := credit.MaskDigits("business.ein", x, 9, 9); err != nil {
			f.add("business.ein", "Give the 9-digit EIN, like 12-3456789.")
		} else {
			sup.EINLast4 = l
			f.Values.Set("business.ein", l.String())
		}
	}
	if sup.Established.IsZero() && sup.Revenue == nil && sup.EINLast4 == "" && !f.Failed() {
		f.Error = "Give the information the lender asked for."
	}
	return sup
}

// loanPage shows one loan: the agreement (to accept, when offered), the live schedule, its
// postings, and what paying it off costs now.
func (s *Server) loanPage(w http.ResponseWriter, r *http.Request) {
	s.showLoan(w, r, http.StatusOK, nil)
}

func (s *Server) showLoan(w http.ResponseWriter, r *http.Request, status int, f *form) {
	ctx, a := r.Context(), actorOf(r)
	if a.Role != trade.RoleBuyer && a.Role != trade.RoleAdmin {
		s.render(w, r, http.StatusForbidden, "error.html", "Not available", errorData{Message: "Pay Later is for buyers."})
		return
	}
	l, err := s.svc.Loan(ctx, a, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := s.loanView(l, a)
	if f != nil {
		v.Form = f
	}
	d := &creditData{View: "loan", Loan: &v, ReadOnly: a.Role != trade.RoleBuyer}
	if d.ReadOnly {
		d.BuyerQuery = "?buyer=" + url.QueryEscape(l.BuyerID)
	}
	title := "Pay Later loan #" + shortID(l.ID)
	if l.State == credit.AgreementPending {
		title = "Your loan agreement"
	}
	s.render(w, r, status, "credit.html", title, d)
}

// loanStep accepts, cancels or pays off a loan from its page, the order page or the credit page.
func (s *Server) loanStep(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	steps := map[string]func(*http.Request, trade.Actor, string, string) (escrow.LoanRecord, error){
		"accept": func(r *http.Request, a trade.Actor, k, id string) (escrow.LoanRecord, error) {
			return s.svc.AcceptLoan(r.Context(), a, k, id)
		},
		"cancel": func(r *http.Request, a trade.Actor, k, id string) (escrow.LoanRecord, error) {
			return s.svc.CancelLoan(r.Context(), a, k, id)
		},
		"pay-off": func(r *http.Request, a trade.Actor, k, id string) (escrow.LoanRecord, error) {
			return s.svc.PayOffLoan(r.Context(), a, k, id)
		},
	}
	step, ok := steps[r.PathValue("step")]
	if !ok {
		s.fail(w, r, errNoOrder)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	f := newForm(nil)
	key, ok := idempotencyKey(r, f)
	if !ok {
		s.showLoan(w, r, http.StatusUnprocessableEntity, f)
		return
	}
	before, err := s.svc.Loan(ctx, a, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	l, err := step(r, a, key, before.ID)
	if err != nil {
		if !f.setError(err) {
			s.fail(w, r, err)
			return
		}
		if len(f.Errors) > 0 && f.Error == "" {
			for _, msg := range f.Errors {
				f.Error = msg
			}
		}
		s.showLoan(w, r, http.StatusUnprocessableEntity, f)
		return
	}
	order := "/orders/" + url.PathEscape(l.OrderID)
	ag := l.Agreement
	switch {
	case r.PathValue("step") == "accept":
		s.redirect(w, r, order, "Loan agreement accepted: "+formatMoney(ag.Principal.Minor, ag.Principal.Currency)+" of your credit is reserved. The lender pays it into escrow on "+
			ag.DisbursementDue.Format("Mon 2 Jan 2006")+"; the order counts as paid then.")
	case r.PathValue("step") == "cancel" && before.State == credit.AgreementPending:
		s.redirect(w, r, order+"#action-pay-later", "Offer withdrawn. Choose a term for a new loan agreement.")
	case r.PathValue("step") == "cancel":
		s.redirect(w, r, order, "Loan cancelled before the lender paid: the credit reserved is available again.")
	case l.BankDebit != nil:
		s.redirect(w, r, "/credit", debitNote(l))
	default: // a payoff is always answered with its debit request; nothing else reaches here
		s.redirect(w, r, "/credit", "Payoff requested.")
	}
}

// payLaterBox is what the order page shows while an installment is being financed (R11): the
// payment, the buyer's available credit, and the agreement offered or accepted for it.
type payLaterBox struct {
	Payment   trade.Payment
	Currency  money.Currency
	Available money.Amount
	Offer     *loanView // the latest agreement offered for the payment, not accepted yet
	Agreed    *loanView // the accepted agreement: the lender pays on its disbursement date
	Buyer     bool
	Terms     []int
}

// payLaterAction is the order page's Pay Later form while an installment's Pay Later payment is
// pending: choose a term for an agreement, review it, or see when the lender pays (and cancel
// before it does). It is nil when there is nothing to finance or the viewer may not see loans.
func (s *Server) payLaterAction(ctx context.Context, o *trade.Order, a trade.Actor) (*action, error) {
	if a.Role != trade.RoleBuyer && a.Role != trade.RoleAdmin {
		return nil, nil
	}
	var p *trade.Payment
	for i := range o.Payments {
		if x := &o.Payments[i]; x.Method == payment.PayLater && x.Status == trade.PaymentPending {
			p = x
		}
	}
	if p == nil {
		return nil, nil
	}
	line, err := s.svc.CreditLine(ctx, a, o.BuyerID)
	if fault.ReasonOf(err) == "credit_line_not_found" {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	loans, err := s.svc.OrderLoans(ctx, a, o.ID)
	if err != nil {
		return nil, err
	}
	box := &payLaterBox{Payment: *p, Currency: o.Currency, Available: line.Available(), Buyer: a.Role == trade.RoleBuyer}
	for t := credit.TermMonthsMin; t <= credit.TermMonthsMax; t++ {
		box.Terms = append(box.Terms, t)
	}
	for _, l := range loans {
		if l.PaymentID != p.ID || l.LineID != line.ID {
			continue
		}
		v := s.loanView(l, a)
		switch l.State {
		case credit.AgreementPending:
			if !v.OfferStale && (box.Offer == nil || l.CreatedAt.After(box.Offer.CreatedAt) || l.CreatedAt.Equal(box.Offer.CreatedAt)) {
				box.Offer = &v
			}
		case credit.Agreed:
			box.Agreed = &v
		}
	}
	if box.Agreed != nil {
		box.Offer = nil
	}
	x := &action{Key: "pay-later", OrderID: o.ID, Title: "Finance the " + string(p.Installment) + " payment with Pay Later",
		Form: newForm(nil), Version: o.Version, Currency: o.Currency, PayLater: box}
	if box.Agreed != nil {
		x.Title = "Pay Later: the lender pays next"
	}
	if box.Offer != nil {
		x.Form.Values.Set("term_months", strconv.Itoa(box.Offer.Agreement.TermMonths))
	}
	return x, nil
}

// offerLoan asks the lender for the agreement that finances the order's pending Pay Later
// payment over the chosen term, and shows it to accept.
func (s *Server) offerLoan(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	id := r.PathValue("id")
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	f := newForm(formValues(r.PostForm))
	f.Values.Del("idempotency_key")
	failed := &action{Key: "pay-later", Form: f}
	key, ok := idempotencyKey(r, f)
	if !ok {
		s.showOrder(w, r, http.StatusUnprocessableEntity, failed)
		return
	}
	term, err := strconv.Atoi(strings.TrimSpace(f.Value("term_months")))
	if err != nil {
		f.add("term_months", "Choose a term.")
		s.showOrder(w, r, http.StatusUnprocessableEntity, failed)
		return
	}
	// The domain checks the term (1–6 months, R11), the line and the payment.
	l, err := s.svc.OfferLoan(ctx, a, key, id, term)
	if err != nil {
		if !f.setError(err) {
			s.fail(w, r, err)
			return
		}
		s.showOrder(w, r, http.StatusUnprocessableEntity, failed)
		return
	}
	s.redirect(w, r, "/credit/loans/"+url.PathEscape(l.ID), "")
}

// payLaterQuote decides the Pay Later row of the pay form for this buyer (R11): selectable with
// an approved line that is not frozen and has enough available credit, otherwise why not — and
// where to apply when the buyer has no line. The domain decides again when the form is posted.
func (s *Server) payLaterQuote(ctx context.Context, o *trade.Order, a trade.Actor, rows []quoteRow, due int64) error {
	i := slices.IndexFunc(rows, func(q quoteRow) bool { return q.Method == payment.PayLater })
	if i < 0 || a.Role != trade.RoleBuyer {
		return nil
	}
	row := &rows[i]
	row.Available = false
	buyer, err := s.svc.Org(ctx, o.BuyerID)
	if err != nil {
		return err
	}
	if err := credit.CheckEligible(buyer.Country, o.Currency); err != nil {
		row.Why = sentence(errMessage(err))
		return nil
	}
	line, err := s.svc.CreditLine(ctx, a, "")
	switch {
	case fault.ReasonOf(err) == "credit_line_not_found":
		row.Why, row.Apply = "Needs an approved Pay Later credit line: apply in a few minutes; the lender usually decides within seconds.",
			"/credit/apply?order="+url.QueryEscape(o.ID)
	case err != nil:
		return err
	case line.Status == credit.LineFrozen:
		row.Why = "Your credit line is frozen while a repayment is past due."
	case due > line.Available().Minor:
		row.Why = "This payment (" + formatMoney(due, o.Currency) + ") is more than your available credit of " +
			formatMoney(line.Available().Minor, line.Currency) + "."
	case due < credit.PrincipalMin.Minor:
		row.Why = "Pay Later finances " + formatMoney(credit.PrincipalMin.Minor, credit.USD) + " or more."
	case row.Total > 0: // the fee schedule priced it
		row.Available, row.Why = true, ""
		row.Arrival += " · available credit " + formatMoney(line.Available().Minor, line.Currency)
	}
	return nil
}
