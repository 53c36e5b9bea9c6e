package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tradeassure/tradeassure/credit"
	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/trade"
)

// Operations (/admin/operations): the work that waits for a person at the platform because no
// outside party answers it by itself — supplier payouts waiting for the bank's answer, payout
// accounts a return flagged, Pay Later debits waiting for the bank's answer or for an operator,
// lender requests waiting for an operator, and disbursements waiting for the lender's money
// (overdue ones to chase). Each queue is read a page at a time, oldest first — an operator works
// through what has waited longest — through the same escrow use cases as the API's lists, and
// each form issues the same command as the API's operation. See docs/portal.md, docs/payouts.md
// and docs/pay-later.md.

// The page sizes of the operations page: how many items of each queue one page lists. Each
// queue is paged by its own cursor (the last item shown), so the others stay where they are.
const (
	// PayoutQueuePageSize: supplier payouts requested and waiting for the bank's answer, oldest
	// first (escrow.Service.Payouts with OldestFirst; GET /v1/payouts?status=requested lists
	// them newest first).
	PayoutQueuePageSize = 10
	// FlagQueuePageSize: suppliers whose payout account a return flagged, oldest flagged first
	// (escrow.Service.OpenPayoutFlagsPage).
	FlagQueuePageSize = 20
	// DebitQueuePageSize: Pay Later debits waiting for the bank's answer, oldest first
	// (escrow.Service.BankDebitsPage; GET /v1/credit/bank-debits?status=requested lists them
	// newest first).
	DebitQueuePageSize = 10
	// AttentionDebitQueuePageSize: Pay Later debits the bank never answered after the bank
	// worker's attempts (status attention), oldest first.
	AttentionDebitQueuePageSize = 10
	// LenderQueuePageSize: lender requests waiting for an operator (status attention), oldest
	// first (escrow.Service.LenderRequestsPage).
	LenderQueuePageSize = 10
	// FundsQueuePageSize: disbursements the lender accepted to pay whose money has not arrived
	// (status awaiting_funds), by when it is due, so the overdue ones come first
	// (escrow.Service.LenderRequestsPage with FundsDueFirst).
	FundsQueuePageSize = 10
)

// opsPageSizes are the page sizes in force: the constants above, lowered by tests.
var opsPageSizes = struct{ payouts, flags, debits, attention, lender, funds int }{PayoutQueuePageSize, FlagQueuePageSize,
	DebitQueuePageSize, AttentionDebitQueuePageSize, LenderQueuePageSize, FundsQueuePageSize}

// The query parameters that page the operations queues, each by its own cursor: the last item
// of the page shown (a flag by its returned payout).
const (
	payoutsAfter   = "payouts_after"
	flagsAfter     = "flags_after"
	debitsAfter    = "debits_after"
	attentionAfter = "attention_after"
	lenderAfter    = "lender_after"
	fundsAfter     = "funds_after"
)

// opsCursorParams are the cursors the page keeps, in the order they are written.
var opsCursorParams = []string{payoutsAfter, flagsAfter, debitsAfter, attentionAfter, lenderAfter, fundsAfter}

// opsPath is the operations page.
const opsPath = "/admin/operations"

// operationsRoutes registers the operations page and its forms: admins only, as every admin page.
func (s *Server) operationsRoutes(app *http.ServeMux) {
	admin := func(h http.HandlerFunc) http.Handler { return s.auth(s.only(h, trade.RoleAdmin)) }
	app.Handle("GET "+opsPath, admin(s.operationsPage))
	app.Handle("POST "+opsPath+"/payouts/{id}/{outcome}", admin(s.recordPayoutAnswer))
	app.Handle("POST "+opsPath+"/flags/{supplier}/clear", admin(s.clearPayoutFlag))
	app.Handle("POST "+opsPath+"/bank-debits/{id}/result", admin(s.recordDebitAnswer))
	app.Handle("POST "+opsPath+"/bank-debits/{id}/retry", admin(s.retryDebit))
	app.Handle("POST "+opsPath+"/lender-requests/{id}/retry", admin(s.retryLender))
}

// opsCursors reads the page's cursors from q; a cursor that is not one is left out, and its
// queue starts from the first page.
func opsCursors(q url.Values) url.Values {
	out := url.Values{}
	for _, p := range opsCursorParams {
		if v := q.Get(p); cursorPattern.MatchString(v) {
			out.Set(p, v)
		}
	}
	return out
}

// opsFailure is a form of the page that was refused: which one, about what, with its errors and
// what was typed.
type opsFailure struct {
	form   string // "sent", "returned", "clear", "result", "retry-debit", "retry-lender"
	id     string // the payout, supplier, debit or lender request
	f      *form
	anchor string // the item's element ID, linked from the top of the page
	what   string // the item, for people: "Payout #1a2b3c4d"
	shown  bool   // the page shows the item with the form; if not, the error goes to the top
}

// show returns the refused form for the item id's form kind, marking it shown; nil when the
// failure is about another form.
func (f *opsFailure) show(kind, id string) *form {
	if f == nil || f.form != kind || f.id != id {
		return nil
	}
	f.shown = true
	return f.f
}

// message is the refusal in one line, for the top of the page when the item is not shown.
func (f *opsFailure) message() string {
	msg := f.f.Error
	for _, e := range f.f.Errors {
		if msg == "" {
			msg = e
		}
	}
	return f.what + ": " + msg
}

// operationsData is the operations page.
type operationsData struct {
	Rails          opsRails
	Payouts        []payoutItem
	PayoutPages    pager
	Flags          []flagItem
	FlagPages      pager
	Debits         []debitItem
	DebitPages     pager
	Attention      []debitItem
	AttentionPages pager
	Lender         []lenderItem
	LenderPages    pager
	Funds          []fundsItem
	FundsPages     pager
	Counts         []opsCount
	// Page is the page's cursors as a query: every form posts it back, so a refused form shows
	// the same page and a recorded one returns to it.
	Page string
	// Failed is the element ID of the item whose form was refused, linked from the top.
	Failed string
	// Lost is a refusal about an item the page no longer shows (another admin answered it).
	Lost string
}

// opsCount is one queue in the list at the top of the page.
type opsCount struct {
	Anchor string
	Label  string
	Count  string // "3", "10 or more"; "" on a later page of the queue
}

// opsRails says, in words, who answers each queue on this server.
type opsRails struct {
	Summary string // one line for the top of the page
	Payouts string
	Bank    string
	Lender  string
	Funds   string // how the lender's money arrives on this server
	Sandbox bool   // the server runs the sandbox: its simulated rails answer by themselves
}

// payoutItem is a payout waiting for the bank's answer, with the two answers an operator records.
type payoutItem struct {
	payoutRow
	Supplier   string
	SentForm   *form
	ReturnForm *form
	ReturnOpen bool // the return form is shown open: it was the one refused
	Earliest   string
	Latest     string // the value dates the domain takes, told beside the date inputs
}

// flagItem is a supplier whose payout account a return flagged.
type flagItem struct {
	trade.PayoutAccountFlag
	Supplier string
	Payout   *trade.Payout // the returned payout; nil if it cannot be read
	Form     *form
}

// debitItem is a Pay Later debit waiting for the bank's answer or for an operator.
type debitItem struct {
	escrow.DebitRequest
	Buyer  string
	Result *form
	Retry  *form     // debits in attention only
	Page   string    // the page's cursors, posted back by its forms
	Now    time.Time // for the debit's age
}

// KindText says what the debit is for, in words.
func (d debitItem) KindText() string {
	switch d.Kind {
	case escrow.DebitInstallment:
		return "Due-date debit"
	case escrow.DebitRetry:
		return "Retry of a refused due-date debit"
	case escrow.DebitPayoff:
		return "Early payoff"
	}
	return capitalize(string(d.Kind))
}

// lenderItem is a lender request waiting for an operator.
type lenderItem struct {
	escrow.LenderRequest
	Buyer string
	Retry *form
}

// fundsItem is a disbursement the lender accepted to pay whose money has not arrived: what an
// operator needs to chase the lender for it. No form: nothing in the domain acts on it but the
// money itself, reported on the pay_later rail.
type fundsItem struct {
	escrow.LenderRequest
	Buyer    string
	OrderID  string    // the order the loan finances; "" if the loan cannot be read
	AgreedAt time.Time // when the loan agreement was made; zero if the loan cannot be read
	DueDay   string    // the latest disbursement day, New York's ("Tue 2 Dec 2025"); "" if the loan cannot be read
	Overdue  bool      // marked overdue: the money was not there by FundsDueAt
	Late     string    // "2 days late", "due in 5 hours"
}

func (s *Server) operationsPage(w http.ResponseWriter, r *http.Request) {
	s.showOperations(w, r, http.StatusOK, opsCursors(r.URL.Query()), nil)
}

// showOperations renders the operations page at the cursors cur; failed, when set, is the form
// that was refused, shown with its errors and what was typed.
func (s *Server) showOperations(w http.ResponseWriter, r *http.Request, status int, cur url.Values, failed *opsFailure) {
	d := &operationsData{Rails: s.opsRails(), Page: cur.Encode()}
	names := orgNames{s: s, ctx: r.Context(), seen: map[string]string{}}
	for _, fill := range []func(*http.Request, url.Values, *operationsData, *opsFailure, orgNames) error{
		s.opsPayouts, s.opsFlags, s.opsDebits, s.opsLender, s.opsFunds} {
		if err := fill(r, cur, d, failed, names); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	switch {
	case failed != nil && failed.shown:
		d.Failed = failed.anchor
	case failed != nil:
		d.Lost = failed.message()
	}
	s.render(w, r, status, "admin-operations.html", "Operations", d)
}

// orgNames reads each organization's name once per page.
type orgNames struct {
	s    *Server
	ctx  context.Context
	seen map[string]string
}

func (n orgNames) of(id string) string {
	if v, ok := n.seen[id]; ok {
		return v
	}
	v := n.s.orgName(n.ctx, id)
	n.seen[id] = v
	return v
}

// opsRails describes who answers each queue on this server, from the service's configuration.
func (s *Server) opsRails() opsRails {
	var o opsRails
	switch rail, sandbox := s.svc.PayoutRail(); {
	case rail == nil:
		o.Payouts = "No payout rail runs on this server: every payout waits here, requested, until you record the bank's answer from its report."
	case sandbox:
		o.Sandbox = true
		o.Payouts = "The sandbox payout rail answers the payouts requested on this sandbox server by itself (simulated: no money moves). Only payouts requested while the sandbox was off wait here for you."
	default:
		o.Payouts = "The payout rail (" + rail.Name() + ") is asked about each payout. One it gives no usable answer for after " +
			itoa(escrow.PayoutSendAttemptsMax) + " attempts is marked for you; you may also record the answer its report gives before then."
	}
	_, sandboxBank := s.svc.SandboxBank()
	switch {
	case s.svc.Bank() == nil:
		o.Bank = "No bank adapter runs on this server: every Pay Later debit waits here until you record the bank's answer from its report."
	case sandboxBank:
		o.Sandbox = true
		o.Bank = "The sandbox bank answers Pay Later debits by itself (simulated: no money moves)."
	default:
		o.Bank = "The bank is asked about each Pay Later debit; one it never answers after " + itoa(escrow.BankDebitAttemptsMax) +
			" attempts waits for you under Needs attention."
	}
	switch rail, _ := s.svc.PayoutRail(); {
	case rail == nil && s.svc.Bank() == nil:
		o.Summary = "No payout rail or bank adapter runs on this server: the bank's answers are yours to record from its report."
	default:
		o.Summary = "Adapters answer these queues on this server; what they could not answer waits here for you."
	}
	o.Lender = "The lender worker asks the lender about each application and disbursement. A request the lender never answered after " +
		itoa(escrow.LenderAttemptsMax) + " attempts, or whose answer could not be booked, waits here for you to look and ask again."
	o.Funds = "The lender's acceptance to pay is not money: its money pays the order when it is reported on the pay_later rail " +
		"(a bank-statement import, or POST /v1/rails/pay_later/credits) quoting the payment's reference, or when you allocate it " +
		"from Money held in suspense. Money not there by the end of the latest disbursement day, " + itoa(credit.DisbursementDaysMax) +
		" US business days after the agreement, is marked overdue, and the admins are told to chase the lender."
	if s.svc.Sandbox().Enabled {
		o.Funds = "The sandbox pays for the lender as soon as it accepts a disbursement requested on this sandbox server (simulated: " +
			"no money moves). Disbursements requested while the sandbox was off wait here for the lender's real money."
	}
	return o
}

// opsPage asks for one more item than a page shows: the one more says a next page exists. It
// returns how many to show and the next page's cursor.
func opsPage[T any](items []T, size int, id func(T) string) ([]T, string) {
	if len(items) > size {
		return items[:size], id(items[size-1])
	}
	return items, ""
}

// count is what the list at the top says of a queue: how many on its first page.
func count(n int, next string, paged bool) string {
	switch {
	case paged:
		return ""
	case next != "":
		return itoa(int64(n)) + " or more"
	}
	return itoa(int64(n))
}

func (s *Server) opsPayouts(r *http.Request, cur url.Values, d *operationsData, failed *opsFailure, names orgNames) error {
	ctx, a, n := r.Context(), actorOf(r), opsPageSizes.payouts
	ps, err := s.svc.Payouts(ctx, a, escrow.PayoutFilter{Status: trade.PayoutRequested, OldestFirst: true, After: cur.Get(payoutsAfter),
		Limit: n + 1})
	if err != nil {
		return err
	}
	ps, next := opsPage(ps, n, func(p trade.Payout) string { return p.ID })
	today := trade.Day(s.svc.Now())
	for _, p := range ps {
		it := payoutItem{payoutRow: payoutRow{p}, Supplier: names.of(p.SupplierID),
			SentForm:   newForm(url.Values{"value_date": {isoDay(today)}}),
			ReturnForm: newForm(url.Values{"value_date": {isoDay(today)}}),
			Earliest:   isoDay(trade.Day(p.CreatedAt)), Latest: isoDay(today.Add(trade.ValueDateAheadMax))}
		if f := failed.show(string(trade.OutcomeSent), p.ID); f != nil {
			it.SentForm = f
		}
		if f := failed.show(string(trade.OutcomeReturned), p.ID); f != nil {
			it.ReturnForm, it.ReturnOpen = f, true
		}
		it.SentForm.Scope, it.ReturnForm.Scope = "sent-"+p.ID, "ret-"+p.ID
		d.Payouts = append(d.Payouts, it)
	}
	d.PayoutPages = listPager(opsPath, cur, payoutsAfter, "payouts", "payouts-h", cur.Get(payoutsAfter) != "", next)
	d.Counts = append(d.Counts, opsCount{"payouts-h", "Supplier payouts waiting for the bank's answer",
		count(len(ps), next, cur.Get(payoutsAfter) != "")})
	return nil
}

func (s *Server) opsFlags(r *http.Request, cur url.Values, d *operationsData, failed *opsFailure, names orgNames) error {
	ctx, a, n := r.Context(), actorOf(r), opsPageSizes.flags
	fs, _, err := s.svc.OpenPayoutFlagsPage(ctx, a, cur.Get(flagsAfter), n+1)
	if err != nil {
		return err
	}
	fs, next := opsPage(fs, n, func(f trade.PayoutAccountFlag) string { return f.PayoutID })
	for _, f := range fs {
		it := flagItem{PayoutAccountFlag: f, Supplier: names.of(f.SupplierID), Form: newForm(nil)}
		if p, err := s.svc.Payout(ctx, a, f.PayoutID); err == nil {
			it.Payout = &p
		}
		if ff := failed.show("clear", f.SupplierID); ff != nil {
			it.Form = ff
		}
		it.Form.Scope = "clear-" + f.SupplierID
		d.Flags = append(d.Flags, it)
	}
	d.FlagPages = listPager(opsPath, cur, flagsAfter, "flagged accounts", "flags-h", cur.Get(flagsAfter) != "", next)
	d.Counts = append(d.Counts, opsCount{"flags-h", "Payout accounts flagged after a return", count(len(fs), next, cur.Get(flagsAfter) != "")})
	return nil
}

func (s *Server) opsDebits(r *http.Request, cur url.Values, d *operationsData, failed *opsFailure, names orgNames) error {
	var err error
	var next string
	paged := cur.Get(attentionAfter) != ""
	if d.Attention, next, err = s.opsDebitQueue(r, cur, escrow.DebitAttention, attentionAfter, opsPageSizes.attention, failed, names); err != nil {
		return err
	}
	d.AttentionPages = listPager(opsPath, cur, attentionAfter, "debits needing attention", "attention-h", paged, next)
	d.Counts = append(d.Counts, opsCount{"attention-h", "Pay Later debits needing attention", count(len(d.Attention), next, paged)})
	paged = cur.Get(debitsAfter) != ""
	if d.Debits, next, err = s.opsDebitQueue(r, cur, escrow.DebitRequested, debitsAfter, opsPageSizes.debits, failed, names); err != nil {
		return err
	}
	d.DebitPages = listPager(opsPath, cur, debitsAfter, "debits waiting", "debits-h", paged, next)
	d.Counts = append(d.Counts, opsCount{"debits-h", "Pay Later debits waiting for the bank's answer", count(len(d.Debits), next, paged)})
	return nil
}

// opsDebitQueue reads a page of the debits in status, paged by param, with their forms.
func (s *Server) opsDebitQueue(r *http.Request, cur url.Values, status escrow.DebitStatus, param string, size int,
	failed *opsFailure, names orgNames) ([]debitItem, string, error) {
	ds, _, err := s.svc.BankDebitsPage(r.Context(), actorOf(r), escrow.DebitFilter{Status: status, After: cur.Get(param), Limit: size + 1,
		Order: escrow.OldestFirst})
	if err != nil {
		return nil, "", err
	}
	ds, next := opsPage(ds, size, func(d escrow.DebitRequest) string { return d.ID })
	out := make([]debitItem, 0, len(ds))
	for _, dr := range ds {
		it := debitItem{DebitRequest: dr, Buyer: names.of(dr.BuyerID), Result: newForm(nil), Page: cur.Encode(), Now: s.svc.Now()}
		if f := failed.show("result", dr.ID); f != nil {
			it.Result = f
		}
		if status == escrow.DebitAttention {
			it.Retry = newForm(nil)
			if f := failed.show("retry-debit", dr.ID); f != nil {
				it.Retry = f
			}
		}
		it.Result.Scope = "debit-" + dr.ID
		out = append(out, it)
	}
	return out, next, nil
}

func (s *Server) opsLender(r *http.Request, cur url.Values, d *operationsData, failed *opsFailure, names orgNames) error {
	n, paged := opsPageSizes.lender, cur.Get(lenderAfter) != ""
	rs, _, err := s.svc.LenderRequestsPage(r.Context(), actorOf(r), escrow.LenderFilter{Status: escrow.LenderAttention,
		After: cur.Get(lenderAfter), Limit: n + 1, Order: escrow.OldestFirst})
	if err != nil {
		return err
	}
	rs, next := opsPage(rs, n, func(l escrow.LenderRequest) string { return l.ID })
	for _, lr := range rs {
		it := lenderItem{LenderRequest: lr, Buyer: names.of(lr.BuyerID), Retry: newForm(nil)}
		if f := failed.show("retry-lender", lr.ID); f != nil {
			it.Retry = f
		}
		d.Lender = append(d.Lender, it)
	}
	d.LenderPages = listPager(opsPath, cur, lenderAfter, "lender requests", "lender-h", paged, next)
	d.Counts = append(d.Counts, opsCount{"lender-h", "Lender requests needing attention", count(len(rs), next, paged)})
	return nil
}

// opsFunds reads a page of the disbursements awaiting the lender's money, by when it is due:
// the overdue ones first. Each shows its loan's agreement time, read through the loan.
func (s *Server) opsFunds(r *http.Request, cur url.Values, d *operationsData, _ *opsFailure, names orgNames) error {
	ctx, a := r.Context(), actorOf(r)
	n, paged := opsPageSizes.funds, cur.Get(fundsAfter) != ""
	rs, _, err := s.svc.LenderRequestsPage(ctx, a, escrow.LenderFilter{Status: escrow.LenderAwaitingFunds, Kind: escrow.LenderDisbursement,
		After: cur.Get(fundsAfter), Limit: n + 1, Order: escrow.FundsDueFirst})
	if err != nil {
		return err
	}
	rs, next := opsPage(rs, n, func(l escrow.LenderRequest) string { return l.ID })
	now := s.svc.Now()
	for _, lr := range rs {
		it := fundsItem{LenderRequest: lr, Buyer: names.of(lr.BuyerID), Overdue: lr.OverdueAt != nil}
		if l, err := s.svc.Loan(ctx, a, lr.LoanID); err == nil {
			// The agreement's dates are in the rail's zone (New York), as the deadline counts them.
			it.OrderID, it.AgreedAt, it.DueDay = l.OrderID, l.Agreement.AgreedAt, l.Agreement.DisbursementLatest.Format("Mon 2 Jan 2006")
		}
		if lr.FundsDueAt != nil {
			it.Late = lateness(now, *lr.FundsDueAt)
		}
		d.Funds = append(d.Funds, it)
	}
	d.FundsPages = listPager(opsPath, cur, fundsAfter, "disbursements", "funds-h", paged, next)
	d.Counts = append(d.Counts, opsCount{"funds-h", "Pay Later disbursements awaiting the lender's money", count(len(rs), next, paged)})
	return nil
}

// lateness says how late money due at due is at now ("2 days late"), or when it is due ("due in 5
// hours").
func lateness(now, due time.Time) string {
	if now.Before(due) {
		return "due " + until(now, due)
	}
	if w := until(now, due); w != "now" {
		return strings.TrimSuffix(w, " ago") + " late"
	}
	return "due now"
}

// isoDay writes a day as the value of a date input.
func isoDay(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// opsReturn is where a form of the page returns to: the page at the cursors it was posted from.
func opsReturn(cur url.Values) string {
	if enc := cur.Encode(); enc != "" {
		return opsPath + "?" + enc
	}
	return opsPath
}

// postedCursors reads the cursors a form of the page posts back (its "page" field).
func postedCursors(r *http.Request) url.Values {
	q, err := url.ParseQuery(strings.TrimSpace(r.PostForm.Get("page")))
	if err != nil {
		return url.Values{}
	}
	return opsCursors(q)
}
