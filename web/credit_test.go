package web_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/credit"
	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/payment"
	"github.com/tradeassure/tradeassure/trade"
)

// Pay Later in the portal (R11): HTTP tests of every page and form on SQLite and PostgreSQL.

// bothDatabases runs f on a fresh world on SQLite, then on PostgreSQL.
func bothDatabases(t *testing.T, f func(t *testing.T, w *world)) {
	t.Run("sqlite", func(t *testing.T) { f(t, newWorld(t, sqliteURL(t))) })
	t.Run("postgres", func(t *testing.T) { f(t, newWorld(t, postgresURL(t))) })
}

// application is the application form as a person fills it in: a business that started years
// ago with revenue (USD, "" for none), its owner, a business checking account and consent.
func application(w *world, revenue string, years int) url.Values {
	started := w.clock.Now().AddDate(-years, 0, -1).Format(time.DateOnly)
	return url.Values{
		"business.legal_name": {"Maple Kids Apparel Inc."}, "business.ein": {"12-3456789"}, "business.state": {"ny"},
		"business.established": {started}, "business.revenue": {revenue},
		"owner.name": {"Pat Owner"}, "owner.title": {"CEO"}, "owner.birth_year": {"1980"}, "owner.ssn": {"123-45-6789"},
		"accounts[0].kind": {"business_checking"}, "accounts[0].institution": {"First Bank of Albany"},
		"accounts[0].account_number": {"000123454321"},
		"accounts[1].kind":           {"accounting"}, "accounts[1].institution": {"Ledgerly"},
		"consent.given": {"yes"},
	}
}

// apply posts the application form from /credit/apply, sees the application wait for the
// lender, lets the lender worker decide it and returns the decision page.
func apply(t *testing.T, w *world, c *client, v url.Values) response {
	t.Helper()
	page := c.get("/credit/apply")
	v.Set("idempotency_key", formKey(t, page.body, "/credit/apply"))
	res := c.post("/credit/apply", v)
	if res.status != http.StatusSeeOther || !strings.HasPrefix(res.header.Get("Location"), "/credit/applications/") {
		t.Fatalf("apply: %d %q\n%s", res.status, res.header.Get("Location"), res.body)
	}
	shows(t, "submitted", c.get(res.header.Get("Location")), "Pay Later application: Submitted", "Waiting for the lender's decision",
		`hx-trigger="every 3s"`)
	w.lenderWorker()
	return c.get(res.header.Get("Location"))
}

// lenderWorker runs the Pay Later lender worker until it finds nothing to ask the lender (R11),
// then, as a lender that pays would, reports the money of each disbursement it accepted on the
// pay_later rail: this server has no sandbox, so nothing else pays for the lender.
func (w *world) lenderWorker() {
	w.t.Helper()
	for {
		n, err := w.svc.RunLenderRequests(w.ctx, "test-lender-worker")
		w.must("lender worker", err)
		if n == 0 {
			break
		}
	}
	rs, err := w.svc.LenderRequests(w.ctx, w.admin, escrow.LenderFilter{Status: escrow.LenderAwaitingFunds})
	w.must("lender requests", err)
	for _, r := range rs {
		_, err := w.svc.ReceiveFunds(w.ctx, "LND-"+r.ID, escrow.Incoming{Method: payment.PayLater, Amount: r.Amount,
			Reference: r.PaymentReference, Payer: "Builtin Lending Co"})
		w.must("the lender's money", err)
	}
}

// contains fails the test unless the page holds every text (HTML entities decoded).
func shows(t *testing.T, what string, page response, texts ...string) {
	t.Helper()
	body := html.UnescapeString(page.body)
	for _, s := range texts {
		if !strings.Contains(body, s) {
			t.Errorf("%s: the page lacks %q\n%s", what, s, body)
		}
	}
}

func hides(t *testing.T, what string, page response, texts ...string) {
	t.Helper()
	body := html.UnescapeString(page.body)
	for _, s := range texts {
		if strings.Contains(body, s) {
			t.Errorf("%s: the page shows %q", what, s)
		}
	}
}

// TestCreditApplyApproved ensures a US buyer applies in advance from the portal and sees the
// decision with its reasons and limit (20% of revenue), the identifiers masked as the domain
// stores them and never in full; the line then shows on /credit and on the dashboard card. R11
func TestCreditApplyApproved(t *testing.T) {
	bothDatabases(t, func(t *testing.T, w *world) {
		c := w.login("buyer")
		shows(t, "no line yet", c.get("/credit"), "Apply for a credit line", `href="/credit/apply"`)
		shows(t, "nav", c.get("/"), `<a href="/credit">Pay Later</a>`, `hx-get="/credit/card"`)
		// A double submit applies once: the same form's key gives the same application.
		v := application(w, "500000.00", 3)
		v.Set("idempotency_key", formKey(t, c.get("/credit/apply").body, "/credit/apply"))
		first, second := c.post("/credit/apply", v), c.post("/credit/apply", v)
		if first.status != http.StatusSeeOther || second.header.Get("Location") != first.header.Get("Location") {
			t.Fatalf("double submit: %d %q, then %d %q", first.status, first.header.Get("Location"), second.status, second.header.Get("Location"))
		}
		w.lenderWorker()
		page := c.get(first.header.Get("Location"))
		shows(t, "decision", page, "Approved with a limit of USD 100,000.00", `data-code="limit_from_revenue"`,
			"••••6789", "••••4321", "••••6789", "First Bank of Albany", "Ledgerly", "USD 100,000.00 available")
		hides(t, "masked", page, "3456789", "456789", "123454321", "45-6789")
		apps, err := w.svc.CreditApplications(w.ctx, w.actors["buyer"], "")
		w.must("applications", err)
		if len(apps) != 1 || apps[0].Business.EINLast4 != "6789" || apps[0].Owner.SSNLast4 != "6789" ||
			apps[0].Accounts[0].Mask != "4321" || apps[0].Business.State != "NY" || apps[0].Channel != credit.InAdvance {
			t.Fatalf("stored application %+v", apps)
		}
		line := c.get("/credit")
		shows(t, "line", line, "Your credit line", "USD 100,000.00", "Status: <strong>active</strong>", "2% a month in months 1–2",
			"0.5% from month 3", "USD 100.00 per loan", "No loans yet")
		card := c.get("/credit/card")
		shows(t, "card", card, "Credit limit", "USD 100,000.00", `href="/credit"`)
		shows(t, "apply again", c.get("/credit/apply"), "You already have a Pay Later line")
	})
}

// TestCreditApplyDeclined ensures a declined application shows every reason at once and opens
// no line, and that a missing revenue figure asks for more information rather than declining:
// the page offers a form for exactly what is missing, a bad amount is refused next to its field,
// and the completed application goes back to the lender, which approves it. R11
func TestCreditApplyDeclined(t *testing.T) {
	bothDatabases(t, func(t *testing.T, w *world) {
		c := w.login("buyer")
		page := apply(t, w, c, application(w, "40000.00", 0))
		shows(t, "declined", page, "Pay Later application: Declined", "for every reason below",
			`data-code="years_in_business_below_minimum"`, `data-code="revenue_below_minimum"`, "Apply again")
		if _, err := w.svc.CreditLine(w.ctx, w.actors["buyer"], ""); err == nil {
			t.Fatal("a declined application opened a line")
		}
		v := application(w, "", 3)
		page = apply(t, w, c, v)
		shows(t, "more information", page, "More information needed", `data-code="annual_revenue_missing"`,
			"Give the lender what it asked for", `id="f-business-revenue"`)
		hides(t, "only what is missing", page, `id="f-business-ein"`, `id="f-business-established"`)
		shows(t, "history", c.get("/credit"), "Declined", "More information needed", "Apply for Pay Later")

		// The buyer completes the same application: a bad amount is refused next to its field.
		apps, err := w.svc.CreditApplications(w.ctx, w.actors["buyer"], "")
		w.must("applications", err)
		path := "/credit/applications/" + apps[0].ID
		action := path + "/information"
		res := c.post(action, url.Values{"idempotency_key": {formKey(t, page.body, action)}, "business.revenue": {"lots"}})
		if res.status != http.StatusUnprocessableEntity {
			t.Fatalf("a bad revenue: %d", res.status)
		}
		shows(t, "field error", res, `id="f-business-revenue-error"`, "Give an amount in USD")
		res = c.post(action, url.Values{"idempotency_key": {formKey(t, res.body, action)}, "business.revenue": {"500,000.00"}})
		if res.status != http.StatusSeeOther || res.header.Get("Location") != path {
			t.Fatalf("completed: %d %q\n%s", res.status, res.header.Get("Location"), res.body)
		}
		page = c.get(path)
		shows(t, "sent again", page, "Sent to the lender", "Pay Later application: Submitted", "Waiting for the lender's decision",
			"Earlier answers", "tell us the business's annual revenue")
		w.lenderWorker()
		shows(t, "decided again", c.get(path), "Approved with a limit of USD 100,000.00")
		if apps, err = w.svc.CreditApplications(w.ctx, w.actors["buyer"], ""); err != nil || len(apps) != 2 {
			t.Fatalf("%d applications: %v", len(apps), err)
		}
	})
}

// TestCreditApplyFieldErrors ensures a refused application shows each error next to its field
// and keeps what was typed — identifiers only masked — and that a domain refusal about the
// accounts lands on the accounts; a masked number posted again is kept. R11
func TestCreditApplyFieldErrors(t *testing.T) {
	bothDatabases(t, func(t *testing.T, w *world) {
		c := w.login("buyer")
		v := application(w, "500000.00", 3)
		v.Set("business.legal_name", "")
		v.Set("business.ein", "12345")
		v.Set("business.revenue", "lots")
		v.Del("consent.given")
		page := c.get("/credit/apply")
		v.Set("idempotency_key", formKey(t, page.body, "/credit/apply"))
		res := c.post("/credit/apply", v)
		if res.status != http.StatusUnprocessableEntity {
			t.Fatalf("bad application: %d", res.status)
		}
		shows(t, "parse errors", res, `id="f-business-ein-error"`, "Give the 9-digit EIN",
			`id="f-business-revenue-error"`, "Give an amount in USD", `value="Pat Owner"`, `value="••••4321"`,
			`value="••••6789"`)
		hides(t, "no full numbers", res, "000123454321", "123-45-6789")

		// Fixed, the domain refuses the missing name first, next to its field; the masks are kept.
		v = url.Values{}
		for k, x := range formInputs(res.body) {
			v[k] = x
		}
		v.Set("business.ein", "12-3456789")
		v.Set("business.revenue", "500000")
		res = c.post("/credit/apply", v)
		shows(t, "domain error", res, `id="f-business-legal_name-error"`, `aria-invalid="true"`)
		v = url.Values{}
		for k, x := range formInputs(res.body) {
			v[k] = x
		}
		v.Set("business.legal_name", "Maple Kids Apparel Inc.")
		res = c.post("/credit/apply", v)
		shows(t, "consent", res, `id="f-consent-given-error"`, "must consent")
		v.Set("idempotency_key", formKey(t, res.body, "/credit/apply"))
		v.Set("consent.given", "yes")
		v.Set("accounts[0].kind", "accounting")
		res = c.post("/credit/apply", v)
		shows(t, "no checking account", res, `id="f-accounts-error"`, "Link a business checking account")
		v.Set("idempotency_key", formKey(t, res.body, "/credit/apply"))
		v.Set("accounts[0].kind", "business_checking")
		if res = c.post("/credit/apply", v); res.status != http.StatusSeeOther {
			t.Fatalf("fixed application: %d\n%s", res.status, res.body)
		}
		w.lenderWorker()
		apps, err := w.svc.CreditApplications(w.ctx, w.actors["buyer"], "")
		w.must("applications", err)
		if len(apps) != 1 || apps[0].Status != credit.Approved || apps[0].Accounts[0].Mask != "4321" || apps[0].Business.EINLast4 != "6789" {
			t.Fatalf("applications %+v", apps)
		}
	})
}

var inputRE = regexp.MustCompile(`<input id="[^"]*" name="([^"]+)" type="(?:text|date)" value="([^"]*)"|<input type="hidden" name="([^"]+)" value="([^"]*)"|<option value="([^"]*)" selected>`)

// formInputs reads back the text and hidden inputs a page's form holds (what a browser would
// post again), and the account rows' kinds.
func formInputs(page string) url.Values {
	v := url.Values{}
	kinds := 0
	for _, m := range inputRE.FindAllStringSubmatch(page, -1) {
		switch {
		case m[1] != "":
			v.Set(m[1], html.UnescapeString(m[2]))
		case m[3] != "":
			v.Set(m[3], html.UnescapeString(m[4]))
		default:
			v.Set("accounts["+strconv.Itoa(kinds)+"].kind", m[5])
			kinds++
		}
	}
	return v
}

// TestCreditNonUSBuyer ensures a buyer outside the US is told clearly that Pay Later is for US
// businesses, instead of getting a form that fails; a forged post is refused the same way, and
// the pay form says why Pay Later is unavailable. R11
func TestCreditNonUSBuyer(t *testing.T) {
	bothDatabases(t, func(t *testing.T, w *world) {
		c := w.germanBuyer()
		page := c.get("/credit/apply")
		if page.status != http.StatusOK {
			t.Fatalf("apply page: %d", page.status)
		}
		shows(t, "refusal", page, "Pay Later is not available to your business", "available to US businesses only",
			"registered in DE")
		hides(t, "no form", page, `action="/credit/apply"`)
		shows(t, "credit page", c.get("/credit"), "available to US businesses only")
		shows(t, "card", c.get("/credit/card"), "available to US businesses only")
		res := c.post("/credit/apply", url.Values{"idempotency_key": {strings.Repeat("a", 32)}, "business.legal_name": {"Berlin Kinder GmbH"}})
		if res.status != http.StatusUnprocessableEntity {
			t.Fatalf("forged post: %d", res.status)
		}
		shows(t, "forged post", res, "available to US businesses only")
		apps, err := w.svc.CreditApplications(w.ctx, w.actors["buyer-de"], "")
		w.must("applications", err)
		if len(apps) != 0 {
			t.Fatalf("%d applications stored", len(apps))
		}
		o := w.orderOf(w.actors["buyer-de"], 3000)
		page = c.get("/orders/" + o.ID)
		shows(t, "pay form", page, `id="m-pay_later" name="method" value="pay_later" disabled`,
			"Pay Later is available to US businesses only.")
	})
}

// germanBuyer adds a buyer registered in Germany with a portal user, logged in.
func (w *world) germanBuyer() *client {
	w.t.Helper()
	org, err := w.svc.CreateOrg(w.ctx, w.admin, w.key(), trade.KindBuyer, "Berlin Kinder GmbH", "DE")
	w.must("org", err)
	u, err := w.acc.CreateUser(w.ctx, trade.System, org.ID, "buyer@berlin.test", "Test DE buyer", trade.RoleBuyer, password)
	w.must("user", err)
	w.actors["buyer-de"] = trade.Actor{Role: trade.RoleBuyer, OrgID: org.ID, UserID: u.ID}
	w.emails["buyer-de"] = "buyer@berlin.test"
	return w.login("buyer-de")
}

// orderOf places and confirms an order of buyer b: the contract of w.contract, in USD, with an
// initial payment of initialBP basis points (10000: everything up front).
func (w *world) orderOf(b trade.Actor, initialBP int) *trade.Order {
	w.t.Helper()
	sup := w.actors["supplier"]
	c := w.contract(false)
	c.Terms.InitialBP = initialBP
	o, err := w.svc.Place(w.ctx, b, w.key(), trade.Place{SupplierID: sup.OrgID, Currency: "USD", ShipBy: c.ShipBy, ComplianceConfirmed: true})
	w.must("place", err)
	o, err = w.svc.Do(w.ctx, sup, w.key(), o.ID, trade.ProposeContract{Contract: c})
	w.must("propose", err)
	o, err = w.svc.Do(w.ctx, b, w.key(), o.ID, trade.ConfirmContract{Hash: o.Proposal.Hash})
	w.must("confirm", err)
	return o
}

// approve opens a line for the world's US buyer: 20% of revenue (minor units).
func (w *world) approve(revenue int64) credit.Line {
	w.t.Helper()
	now := w.clock.Now()
	rev := money.New(revenue, credit.USD)
	res, err := w.svc.ApplyForCredit(w.ctx, w.actors["buyer"], w.key(), credit.Application{Channel: credit.InAdvance,
		Business: credit.Business{LegalName: "Maple Kids Apparel Inc.", EINLast4: "6789", Country: "US", State: "NY",
			Established: now.AddDate(-3, 0, 0), Revenue: &rev},
		Owner:    credit.Owner{Name: "Pat Owner", BirthYear: 1980, SSNLast4: "1234"},
		Accounts: []credit.LinkedAccount{{Kind: credit.BusinessChecking, Institution: "First Bank", Mask: "4321"}},
		Consent:  credit.Consent{Given: true, At: now, TextVersion: "test"}})
	w.must("apply", err)
	w.lenderWorker()
	app, err := w.svc.CreditApplication(w.ctx, w.admin, res.Application.ID)
	w.must("application", err)
	if app.Status != credit.Approved {
		w.t.Fatalf("not approved: %+v", app.Decision)
	}
	return mustLine(w)
}

// payLater chooses Pay Later on the order's pay form and returns the order page after it.
func payLater(t *testing.T, c *client, o *trade.Order) response {
	t.Helper()
	path := "/orders/" + o.ID
	page := c.get(path)
	res := c.post(path+"/pay", url.Values{"idempotency_key": {formKey(t, page.body, path+"/pay")},
		"version": {strconv.FormatInt(o.Version, 10)}, "installment": {"initial"}, "method": {"pay_later"}})
	if res.status != http.StatusSeeOther || res.header.Get("Location") != path+"#action-pay-later" {
		t.Fatalf("pay with Pay Later: %d %q\n%s", res.status, res.header.Get("Location"), res.body)
	}
	return c.get(path)
}

// offer posts a term on the order page's Pay Later form.
func offer(t *testing.T, c *client, o *trade.Order, term string) response {
	t.Helper()
	path := "/orders/" + o.ID
	page := c.get(path)
	return c.post(path+"/pay-later", url.Values{"idempotency_key": {formKey(t, page.body, path+"/pay-later")},
		"version": {strconv.FormatInt(o.Version, 10)}, "term_months": {term}})
}

// loanStep posts one of a loan page's forms (accept, cancel, pay-off) from the page it is on.
func loanStep(t *testing.T, c *client, page, loanID, step string) response {
	t.Helper()
	action := "/credit/loans/" + loanID + "/" + step
	return c.post(action, url.Values{"idempotency_key": {formKey(t, page, action)}})
}

// TestCreditFinancingAtCheckout ensures the whole checkout in the portal: Pay Later is
// selectable on the pay form with a line; choosing it leads to the term; a term out of range
// is refused next to the field; the agreement shows exactly the domain's numbers; accepting
// reserves the credit, and the order shows when the lender pays but is not paid yet; once the
// disbursement timer fires the payment is received and the order moves on; the credit page
// shows the loan with its schedule, the statement downloads as the domain's CSV, and paying off
// early restores the available credit. R11
func TestCreditFinancingAtCheckout(t *testing.T) {
	bothDatabases(t, func(t *testing.T, w *world) {
		line := w.approve(500_000_00)
		o := w.orderOf(w.actors["buyer"], 3000) // initial payment USD 3,480.00
		c := w.login("buyer")
		path := "/orders/" + o.ID
		page := c.get(path)
		shows(t, "pay form", page, `id="m-pay_later" name="method" value="pay_later">`)
		page = payLater(t, c, o)
		shows(t, "term choice", page, "Pay Later chosen.", "Finance the initial payment with Pay Later",
			"Pay Later finances <strong>USD 3,480.00</strong>", "available credit USD 100,000.00", `<select id="f-term_months" name="term_months"`,
			"No loan agreement accepted yet.")

		res := offer(t, c, o, "7")
		if res.status != http.StatusUnprocessableEntity {
			t.Fatalf("term 7: %d", res.status)
		}
		shows(t, "term out of range", res, `id="f-term_months-error"`, "Choose a term of 1 to 6 months.")

		res = offer(t, c, o, "3")
		loc := res.header.Get("Location")
		if res.status != http.StatusSeeOther || !strings.HasPrefix(loc, "/credit/loans/") {
			t.Fatalf("offer: %d %q\n%s", res.status, loc, res.body)
		}
		loanID := strings.TrimPrefix(loc, "/credit/loans/")
		l, err := w.svc.Loan(w.ctx, w.actors["buyer"], loanID)
		w.must("loan", err)
		ag := l.Agreement
		agreement := c.get(loc)
		want := []string{"Your loan agreement", "USD 3,480.00", "3 months", "Accept the agreement",
			"USD " + money.GroupThousands(ag.TotalCost.Decimal()), "USD " + money.GroupThousands(ag.NetFees.Decimal()),
			ag.DisbursementDue.Format("Mon 2 Jan 2006"), ag.DisbursementLatest.Format("Mon 2 Jan 2006")}
		for _, in := range ag.Installments {
			want = append(want, in.DueDate.Format("Mon 2 Jan 2006"), "USD "+money.GroupThousands(in.Total.Decimal()),
				"USD "+money.GroupThousands(in.Fee.Decimal())+" <small>("+in.Rate.String()+")</small>")
		}
		shows(t, "agreement", agreement, want...)
		if ag.TermMonths != 3 || ag.Principal.Minor != 3_480_00 || len(ag.Installments) != 3 {
			t.Fatalf("agreement %+v", ag)
		}

		res = loanStep(t, c, agreement.body, loanID, "accept")
		if res.status != http.StatusSeeOther || res.header.Get("Location") != path {
			t.Fatalf("accept: %d %q\n%s", res.status, res.header.Get("Location"), res.body)
		}
		page = c.get(path)
		due := ag.DisbursementDue.Format("Mon 2 Jan 2006")
		shows(t, "accepted", page, "Loan agreement accepted", "disbursement expected on", due,
			"Cancel the loan before the lender pays")
		if o := mustOrder(w, path); o.State != trade.Confirmed || o.Money.Paid != 0 {
			t.Fatalf("accepted but not disbursed: the order is %s with %d paid", o.State, o.Money.Paid) // R11: paid only when the lender pays
		}
		shows(t, "reserved", c.get("/credit"), "USD 3,480.00 reserved for accepted agreements", "USD 96,520.00")

		w.clock.Set(ag.DisbursementDue.Add(time.Minute))
		if _, err := w.svc.RunTimers(w.ctx, "test-worker"); err != nil {
			t.Fatal(err)
		}
		// The disbursement is requested: the lender worker has not asked the lender yet.
		shows(t, "disbursement requested", c.get("/credit/loans/"+loanID), "The lender was asked on",
			"into the order's escrow; the order counts as paid once its payment is recorded")
		hides(t, "no cancel while the lender pays", c.get("/credit/loans/"+loanID), "Cancel the loan")
		w.lenderWorker()
		page = c.get(path)
		shows(t, "received", page, "In production", "Received", "Pay Later (line of credit)", `<a href="/credit">your loan</a>`)
		hides(t, "received", page, "disbursement expected on")

		cp := c.get("/credit")
		shows(t, "credit page", cp, "Disbursed", "Repayment schedule", "USD 96,520.00", "Pay off USD 3,480.00 now",
			"/credit/statements/2026-03.csv")
		st, err := w.svc.CreditStatement(w.ctx, w.actors["buyer"], "", credit.Period{Year: 2026, Month: time.March})
		w.must("statement", err)
		csv := c.get("/credit/statements/2026-03.csv")
		if csv.status != http.StatusOK || csv.body != string(st.CSV()) || !strings.HasPrefix(csv.header.Get("Content-Type"), "text/csv") ||
			!strings.Contains(csv.header.Get("Content-Disposition"), `statement-2026-03.csv`) {
			t.Fatalf("statement CSV: %d %q\n%s", csv.status, csv.header.Get("Content-Type"), csv.body)
		}
		pdf, err := st.PDF()
		w.must("pdf", err)
		if res := c.get("/credit/statements/2026-03.pdf"); res.status != http.StatusOK || res.body != string(pdf) ||
			res.header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(res.body, "%PDF") {
			t.Fatalf("statement PDF: %d %q", res.status, res.header.Get("Content-Type"))
		}
		shows(t, "pdf link", cp, "/credit/statements/2026-03.pdf")
		if res := c.get("/credit/statements/2026-03.txt"); res.status != http.StatusNotFound {
			t.Errorf("a .txt statement: %d", res.status)
		}
		if res := c.get("/credit/statements/2026-13.csv"); res.status != http.StatusNotFound {
			t.Errorf("a month 13: %d", res.status)
		}

		res = loanStep(t, c, cp.body, loanID, "pay-off")
		if res.status != http.StatusSeeOther || res.header.Get("Location") != "/credit" {
			t.Fatalf("pay off: %d\n%s", res.status, res.body)
		}
		// The payoff is requested from the bank (the debit outbox): pending until the bank
		// worker records the bank's answer, and a second submission debits nothing more.
		cp = c.get("/credit")
		shows(t, "payoff requested", cp, "Payoff requested — debited from your account ending ••••4321: USD 3,480.00")
		if strings.Contains(cp.body, `class="payoff"`) {
			t.Error("the payoff form is offered again while the payoff is pending")
		}
		hides(t, "no sandbox", cp, "Sandbox bank")
		// This world has no bank adapter and no sandbox: the worker asks nobody, and an operator
		// records the bank's answer.
		w.bankWorker()
		shows(t, "still requested", c.get("/credit"), "Payoff requested")
		l, err = w.svc.Loan(w.ctx, w.admin, loanID)
		w.must("loan", err)
		d, err := w.svc.RecordBankDebitResult(w.ctx, w.admin, w.key(), l.BankDebit.ID, true)
		w.must("record the bank's answer", err)
		if d.Status != escrow.DebitSucceeded || d.Sandbox || d.RecordedBy != "admin:"+w.admin.UserID {
			t.Fatalf("recorded %+v", d)
		}
		cp = c.get("/credit")
		shows(t, "paid off", cp, "Paid off")
		if got := mustLine(w).Available(); got != line.Limit {
			t.Fatalf("available after payoff %s, want %s", got, line.Limit)
		}
		if got := regexp.MustCompile(`id="credit-available">([^<]+)<`).FindStringSubmatch(cp.body); got == nil || got[1] != "USD 100,000.00" {
			t.Errorf("available shown %v", got)
		}
	})
}

// bankWorker runs the Pay Later bank worker until it finds nothing to ask the bank (R11).
func (w *world) bankWorker() {
	w.t.Helper()
	for {
		n, err := w.svc.RunBankDebits(w.ctx, "test-bank-worker")
		w.must("bank worker", err)
		if n == 0 {
			return
		}
	}
}

// bankAnswers records, as an operator would, the bank's answer to every debit request waiting for
// one: this world runs without the sandbox, so no bank answers by itself (R11).
func (w *world) bankAnswers(paid bool) {
	w.t.Helper()
	ds, err := w.svc.BankDebits(w.ctx, w.admin, escrow.DebitFilter{Status: escrow.DebitRequested})
	w.must("debits", err)
	for _, d := range ds {
		_, err := w.svc.RecordBankDebitResult(w.ctx, w.admin, w.key(), d.ID, paid)
		w.must("record the bank's answer", err)
	}
}

func mustLine(w *world) credit.Line {
	w.t.Helper()
	l, err := w.svc.CreditLine(w.ctx, w.actors["buyer"], "")
	w.must("line", err)
	return l
}

// TestCreditCancelBeforeDisbursement ensures the buyer may cancel an accepted loan from the
// order page before the lender pays: the reservation is given back, and when the timer comes
// nothing is paid; choosing another term withdraws an offer. R11
func TestCreditCancelBeforeDisbursement(t *testing.T) {
	bothDatabases(t, func(t *testing.T, w *world) {
		line := w.approve(500_000_00)
		o := w.orderOf(w.actors["buyer"], 3000)
		c := w.login("buyer")
		path := "/orders/" + o.ID
		payLater(t, c, o)
		res := offer(t, c, o, "6")
		first := strings.TrimPrefix(res.header.Get("Location"), "/credit/loans/")
		res = loanStep(t, c, c.get("/credit/loans/"+first).body, first, "cancel") // "Choose another term"
		if res.status != http.StatusSeeOther || res.header.Get("Location") != path+"#action-pay-later" {
			t.Fatalf("another term: %d %q", res.status, res.header.Get("Location"))
		}
		res = offer(t, c, o, "2")
		loanID := strings.TrimPrefix(res.header.Get("Location"), "/credit/loans/")
		loanStep(t, c, c.get("/credit/loans/"+loanID).body, loanID, "accept")
		if got := mustLine(w).Available().Minor; got != line.Limit.Minor-3_480_00 {
			t.Fatalf("available after accepting %d", got)
		}
		page := c.get(path)
		res = c.post("/credit/loans/"+loanID+"/cancel", url.Values{"idempotency_key": {formKey(t, page.body, path+"/pay-later")}})
		if res.status != http.StatusSeeOther || res.header.Get("Location") != path {
			t.Fatalf("cancel: %d %q\n%s", res.status, res.header.Get("Location"), res.body)
		}
		shows(t, "cancelled", c.get(path), "Loan cancelled before the lender paid", "No loan agreement accepted yet.")
		if got := mustLine(w).Available(); got != line.Limit {
			t.Fatalf("available after cancelling %s", got)
		}
		l, err := w.svc.Loan(w.ctx, w.admin, loanID)
		w.must("loan", err)
		w.clock.Set(l.Agreement.DisbursementLatest.Add(time.Hour))
		if _, err := w.svc.RunTimers(w.ctx, "test-worker"); err != nil {
			t.Fatal(err)
		}
		if o := mustOrder(w, path); o.Money.Paid != 0 {
			t.Fatalf("a cancelled loan paid %d", o.Money.Paid)
		}
		shows(t, "history", c.get("/credit"), "Cancelled agreements (2)")
		// A cancelled loan cannot be accepted: the refusal shows on its page.
		res = c.post("/credit/loans/"+first+"/accept", url.Values{"idempotency_key": {strings.Repeat("b", 32)}})
		if res.status != http.StatusUnprocessableEntity {
			t.Fatalf("accepting a cancelled loan: %d", res.status)
		}
		shows(t, "refused", res, "Cannot accept a loan that is cancelled.")
	})
}

// TestCreditInsufficientCredit ensures Pay Later is not selectable when the payment is more
// than the available credit, says so with both amounts, and a forged post is refused by the
// domain with the same reason. R11
func TestCreditInsufficientCredit(t *testing.T) {
	bothDatabases(t, func(t *testing.T, w *world) {
		w.approve(50_000_00) // a US$10,000 line
		o := w.orderOf(w.actors["buyer"], 10_000)
		c := w.login("buyer")
		path := "/orders/" + o.ID
		page := c.get(path)
		shows(t, "pay form", page, `id="m-pay_later" name="method" value="pay_later" disabled`,
			"This payment (USD 11,600.00) is more than your available credit of USD 10,000.00.")
		res := c.post(path+"/pay", url.Values{"idempotency_key": {formKey(t, page.body, path+"/pay")},
			"version": {strconv.FormatInt(o.Version, 10)}, "installment": {"initial"}, "method": {"pay_later"}})
		if res.status != http.StatusUnprocessableEntity {
			t.Fatalf("forged Pay Later: %d", res.status)
		}
		shows(t, "refused", res, "USD 11600.00 is more than the available credit of USD 10000.00.")
		if o := mustOrder(w, path); len(o.Payments) != 0 {
			t.Fatalf("payments %+v", o.Payments)
		}
	})
}

// TestCreditWithoutLine ensures a US buyer without a line sees Pay Later unavailable with a link
// to apply at checkout, and an application from there names the order and leads back to it. R11
func TestCreditWithoutLine(t *testing.T) {
	bothDatabases(t, func(t *testing.T, w *world) {
		o := w.orderOf(w.actors["buyer"], 3000)
		c := w.login("buyer")
		page := c.get("/orders/" + o.ID)
		link := "/credit/apply?order=" + o.ID
		shows(t, "pay form", page, `id="m-pay_later" name="method" value="pay_later" disabled`,
			"Needs an approved Pay Later credit line", `href="`+link+`"`)
		form := c.get(link)
		shows(t, "at checkout", form, "applying at checkout for order", "USD 3,480.00", `name="order_id" value="`+o.ID+`"`)
		v := application(w, "500000.00", 3)
		v.Set("order_id", o.ID)
		v.Set("idempotency_key", formKey(t, form.body, "/credit/apply"))
		res := c.post("/credit/apply", v)
		w.lenderWorker()
		decision := c.get(res.header.Get("Location"))
		shows(t, "decision", decision, "Approved", `href="/orders/`+o.ID+`#action-pay"`)
		apps, err := w.svc.CreditApplications(w.ctx, w.actors["buyer"], "")
		w.must("applications", err)
		if apps[0].Channel != credit.AtCheckout || apps[0].OrderID != o.ID {
			t.Fatalf("application %+v", apps[0])
		}
		shows(t, "now selectable", c.get("/orders/"+o.ID), `id="m-pay_later" name="method" value="pay_later">`)
	})
}

// TestCreditAdminReadOnly ensures an admin may view a named buyer's line, loans and statements
// without any form, a supplier may not see Pay Later pages, and another buyer's loan is not
// found. R11
func TestCreditAdminReadOnly(t *testing.T) {
	bothDatabases(t, func(t *testing.T, w *world) {
		w.approve(500_000_00)
		o := w.orderOf(w.actors["buyer"], 3000)
		buyer := w.login("buyer")
		payLater(t, buyer, o)
		res := offer(t, buyer, o, "3")
		loanID := strings.TrimPrefix(res.header.Get("Location"), "/credit/loans/")
		loanStep(t, buyer, buyer.get("/credit/loans/"+loanID).body, loanID, "accept")

		admin := w.login("admin")
		shows(t, "buyers", admin.get("/credit"), "Maple Kids Apparel Inc.", "/credit?buyer="+w.actors["buyer"].OrgID)
		page := admin.get("/credit?buyer=" + w.actors["buyer"].OrgID)
		shows(t, "line", page, "Pay Later: Maple Kids Apparel Inc.", "USD 100,000.00", "Agreed",
			"/credit/statements/2026-03.csv?buyer="+w.actors["buyer"].OrgID)
		hides(t, "read-only", page, "Apply for Pay Later", "Pay off")
		csv := admin.get("/credit/statements/2026-03.csv?buyer=" + w.actors["buyer"].OrgID)
		if csv.status != http.StatusOK || !strings.HasPrefix(csv.body, "date,type,loan_id") {
			t.Fatalf("admin CSV: %d %s", csv.status, csv.body)
		}
		shows(t, "admin order page", admin.get("/orders/"+o.ID), "Pay Later: the lender pays next", "disbursement expected on",
			"Cancel the loan before the lender pays")
		lp := admin.get("/credit/loans/" + loanID)
		shows(t, "loan", lp, "Pay Later loan #", "Repayment schedule")
		hides(t, "loan read-only", lp, "Accept the agreement")

		sup := w.login("supplier")
		if res := sup.get("/credit"); res.status != http.StatusForbidden {
			t.Errorf("supplier /credit: %d", res.status)
		}
		if res := sup.get("/credit/loans/" + loanID); res.status != http.StatusForbidden {
			t.Errorf("supplier loan: %d", res.status)
		}
		shows(t, "supplier order page", sup.get("/orders/"+o.ID), "Paid by Pay Later")
		de := w.germanBuyer()
		if res := de.get("/credit/loans/" + loanID); res.status != http.StatusNotFound {
			t.Errorf("another buyer's loan: %d", res.status)
		}
		if res := de.get("/credit/statements/2026-03.csv?buyer=" + w.actors["buyer"].OrgID); res.status != http.StatusNotFound {
			t.Errorf("another buyer's statement: %d", res.status)
		}
	})
}

// TestCreditFrozenLine ensures a missed automatic debit shows the line as frozen, with why, and
// Pay Later is then not selectable on a new order. R11
func TestCreditFrozenLine(t *testing.T) {
	bothDatabases(t, func(t *testing.T, w *world) {
		w.approve(500_000_00)
		o := w.orderOf(w.actors["buyer"], 3000)
		c := w.login("buyer")
		payLater(t, c, o)
		res := offer(t, c, o, "2")
		loanID := strings.TrimPrefix(res.header.Get("Location"), "/credit/loans/")
		loanStep(t, c, c.get("/credit/loans/"+loanID).body, loanID, "accept")
		l, err := w.svc.Loan(w.ctx, w.admin, loanID)
		w.must("loan", err)
		w.clock.Set(l.Agreement.DisbursementDue.Add(time.Minute))
		_, err = w.svc.RunTimers(w.ctx, "test-worker")
		w.must("timers", err)
		w.lenderWorker()
		w.clock.Set(l.Agreement.Installments[0].DueDate.Add(time.Hour))
		_, err = w.svc.RunTimers(w.ctx, "test-worker")
		w.must("timers", err)
		shows(t, "debit requested", c.get("/credit"), "Automatic debit of USD 1,740.00 requested from your account ending ••••4321")
		l, err = w.svc.Loan(w.ctx, w.admin, loanID)
		w.must("loan", err)
		_, err = w.svc.RecordBankDebitResult(w.ctx, w.admin, w.key(), l.BankDebit.ID, false) // the bank refused it
		w.must("record the bank's refusal", err)
		_, err = w.svc.RunTimers(w.ctx, "test-worker")
		w.must("timers", err)
		// The March statement was closed and stored on April 1 (R11); April's is in progress.
		shows(t, "frozen", c.get("/credit"), "Frozen.", "A repayment is past due on 1 loan", "Past due",
			`<td data-label="Month">2026-03</td>`, `2026-04 <small>(so far)</small>`, "/credit/statements/2026-03.pdf")
		shows(t, "card", c.get("/credit/card"), "Frozen while a repayment is past due.")
		o2 := w.orderOf(w.actors["buyer"], 3000)
		shows(t, "pay form", c.get("/orders/"+o2.ID), `id="m-pay_later" name="method" value="pay_later" disabled`,
			"Your credit line is frozen while a repayment is past due.")
	})
}
