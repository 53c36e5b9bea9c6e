package notify

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tradeassure/tradeassure/credit"
	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/ledger"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/trade"
)

// Events outside an order: a Pay Later application is answered on the buyer's stream, a loan's
// events are on the loan's stream, money held in suspense is on the platform's (R8, R11). Their
// rules are here, pure like the order rules: they take the event and what it is about as it is
// when the event is handled, and a request no longer needed is not sent.

// Subject is what an event outside an order is about, as it is when the notifier handles the
// event (normally within a second of it). The notifier reads only what the event's type needs
// (subjectRules); the rest stays nil.
type Subject struct {
	Buyer       string // the buyer's name, for the admins' notices about its loan
	Application *credit.Application
	Loan        *escrow.LoanRecord
	Debit       *escrow.DebitRequest
	Suspense    *escrow.SuspenseItem
	// LenderRequest is the lender request the payload's request_id names.
	LenderRequest *escrow.LenderRequest
	// ManualBank says no bank adapter answers debit requests on this platform: an operator
	// records each answer from the bank's report (docs/pay-later.md, the manual bank).
	ManualBank bool
}

// Portal pages the notices outside an order link to.
const (
	CreditLink   = "/credit"         // the buyer's Pay Later page: its line, loans and statements
	SuspenseLink = "/admin/suspense" // the admins' list of money held in suspense
)

// LoanLink is a Pay Later loan's page in the portal: the buyer's, which an admin reads too.
func LoanLink(id string) string { return "/credit/loans/" + id }

// ApplicationLink is a Pay Later application's page in the portal, where the buyer completes it.
func ApplicationLink(id string) string { return "/credit/applications/" + id }

// What an event's rule needs read.
const (
	needApplication   = 1 << iota // the application named by the payload's application_id
	needLoan                      // the loan whose stream it is
	needDebit                     // the debit request named by the payload's debit_id
	needSuspense                  // the suspense item named by the payload's id
	needLenderRequest             // the lender request named by the payload's request_id
)

type subjectRule struct {
	needs int
	rule  func(*srules)
}

// subjectRules are the events outside an order that ask someone to act, by type.
var subjectRules = map[string]subjectRule{
	"credit.application_decided": {needApplication, (*srules).decided},
	"loan.disbursed":             {needLoan, (*srules).disbursed},
	"loan.debit_failed":          {needLoan, (*srules).debitFailed},
	"loan.payoff_failed":         {needLoan, (*srules).payoffFailed},
	"loan.charged_off":           {needLoan, (*srules).chargedOff},
	"loan.debit_requested":       {needLoan | needDebit, (*srules).debitToRecord},
	"loan.debit_attention":       {needLoan | needDebit, (*srules).debitAttention},
	"loan.debit_unapplied":       {needLoan | needDebit, (*srules).debitUnapplied},
	// On the loan's stream for a disbursement, on the buyer's for a decision.
	"credit.lender_request_attention": {needLoan | needLenderRequest, (*srules).lenderAttention},
	"loan.disbursement_overdue":       {needLoan | needLenderRequest, (*srules).disbursementOverdue},
	"suspense.received":               {needSuspense, (*srules).suspense},
}

// subjectRefs are the IDs in an event's payload that name what it is about.
type subjectRefs struct {
	ApplicationID string `json:"application_id"`
	DebitID       string `json:"debit_id"`
	RequestID     string `json:"request_id"`
	ID            string `json:"id"`
}

// ForSubject is what an event outside an order asks for: who must act, and which reminders to
// set. s is what the event is about as it is when the event is handled: an answer the buyer
// already gave, a loan cured since, a debit already recorded, money already allocated ask
// nothing.
func ForSubject(ev escrow.Event, s Subject) Plan {
	rule, ok := subjectRules[ev.Type]
	if !ok {
		return Plan{}
	}
	r := srules{ev: ev, s: s}
	rule.rule(&r)
	return Plan{Notices: r.notices, Reminders: r.remind}
}

// srules builds the plan of one event outside an order.
type srules struct {
	ev      escrow.Event
	s       Subject
	notices []Notice
	remind  []Reminder
}

func (r *srules) payload(v any) bool { return json.Unmarshal(r.ev.Payload, v) == nil }

func (r *srules) tell(k Kind, org string, role trade.Role, orderID, link, title, body string) {
	r.notices = append(r.notices, Notice{Kind: k, To: Recipient{OrgID: org, Roles: []trade.Role{role}}, OrderID: orderID,
		Title: clip(title, TitleMax), Body: clip(body, BodyMax), Link: link})
}

// toBuyer tells the buyers of the loan's organization, on the loan's page.
func (r *srules) toBuyer(k Kind, l *escrow.LoanRecord, title, body string) {
	r.tell(k, l.BuyerID, trade.RoleBuyer, l.OrderID, LoanLink(l.ID), title, body)
}

// toAdmins tells the platform's admins of a debit of the loan, linking link: the section of the
// Operations page where they act on it, or the loan's page.
func (r *srules) toAdmins(k Kind, l *escrow.LoanRecord, link, title, body string) {
	r.tell(k, ledger.Platform, trade.RoleAdmin, l.OrderID, link, title, body)
}

// loanFor returns the loan the event's stream is, or nil.
func (r *srules) loanFor() *escrow.LoanRecord {
	if l := r.s.Loan; l != nil && l.ID == r.ev.Stream {
		return l
	}
	return nil
}

// debitFor returns the loan's debit request the payload names, if it is in status st.
func (r *srules) debitFor(l *escrow.LoanRecord, st escrow.DebitStatus) *escrow.DebitRequest {
	var ref subjectRefs
	if d := r.s.Debit; d != nil && r.payload(&ref) && d.ID == ref.DebitID && d.LoanID == l.ID && d.Status == st {
		return d
	}
	return nil
}

// loanRef names a loan and the order it finances, for a notice's text.
func loanRef(l *escrow.LoanRecord) string {
	return fmt.Sprintf("Pay Later loan %s (order %s)", ShortRef(l.ID), ShortRef(l.OrderID))
}

// decided: the buyer waits for the lender's answer; "more information" asks it to complete the
// application, while it still waits for that.
func (r *srules) decided() {
	var pl struct {
		ApplicationID string                   `json:"application_id"`
		Status        credit.ApplicationStatus `json:"status"`
	}
	a := r.s.Application
	if !r.payload(&pl) || a == nil || a.ID != pl.ApplicationID || a.Status != pl.Status || a.Decision == nil {
		return // completed and sent back to the lender since
	}
	reasons := reasonsText(a.Decision.Reasons)
	tell := func(k Kind, link, title, body string) {
		r.tell(k, a.BuyerID, trade.RoleBuyer, a.OrderID, link, title, body)
	}
	switch a.Status {
	case credit.Approved:
		tell(CreditDecided, CreditLink, "Pay Later approved: a line of "+a.Decision.Limit.Display(),
			fmt.Sprintf("The lender approved your Pay Later application: your line of credit is %s. Choose Pay Later when you pay "+
				"an order, and accept the loan agreement the lender offers.", a.Decision.Limit.Display()))
	case credit.Declined:
		tell(CreditDecided, ApplicationLink(a.ID), "Pay Later application declined",
			fmt.Sprintf("The lender declined your Pay Later application: %s. Pay your orders by another method.", reasons))
	case credit.MoreInformationNeeded:
		tell(CreditInformationNeeded, ApplicationLink(a.ID), "Pay Later: the lender needs more information",
			fmt.Sprintf("The lender cannot decide your Pay Later application yet: %s. Add it on the application's page, "+
				"and the lender decides again.", reasons))
	}
}

func reasonsText(rs []credit.Reason) string {
	msgs := make([]string, 0, len(rs))
	for _, x := range rs {
		msgs = append(msgs, x.Message)
	}
	if len(msgs) == 0 {
		return "no reason given"
	}
	return strings.Join(msgs, "; ")
}

// disbursed: the loan is running; each installment's debit gets its reminder.
func (r *srules) disbursed() {
	l := r.loanFor()
	if l == nil || l.State.Terminal() {
		return
	}
	for _, in := range l.Installments {
		if in.Status != credit.Scheduled {
			continue
		}
		n := strconv.Itoa(in.N)
		r.remind = append(r.remind, Reminder{Key: "loan_due/" + l.ID + "/" + n, Kind: InstallmentDueNear, OrderID: l.OrderID,
			Ref: l.ID + "/" + n, DueAt: in.DueDate.Add(-DueReminderLead)})
	}
}

// debitFailed: the bank refused the automatic debit; the loan is past due and the line frozen
// until the buyer funds the account and a debit succeeds — while it is still past due.
func (r *srules) debitFailed() {
	var pl struct {
		Amount money.Amount `json:"amount"`
	}
	l := r.loanFor()
	if !r.payload(&pl) || l == nil || l.State != credit.PastDue || pl.Amount.Currency == "" {
		return // cured or closed since
	}
	chargeOff := ""
	if since := l.PastDueSince(); !since.IsZero() {
		chargeOff = fmt.Sprintf(" If it is still past due on %s, the lender charges it off and your line is closed.",
			railDay(since.AddDate(0, 0, credit.ChargeOffDaysPastDue)))
	}
	r.toBuyer(LoanPastDue, l, fmt.Sprintf("Pay Later loan %s is past due", ShortRef(l.ID)),
		fmt.Sprintf("Your bank refused the automatic debit of %s for %s. The loan is past due and your Pay Later line is frozen "+
			"until a debit succeeds. Put the money in your business checking account: the debit is tried again %d and %d "+
			"business days after a missed due date and on each later due date, or pay the loan off from its page.%s",
			pl.Amount.Display(), loanRef(l), credit.DebitRetry1BusinessDays, credit.DebitRetry2BusinessDays, chargeOff))
}

// payoffFailed: the early repayment the buyer asked for was refused by its bank; nothing changed.
func (r *srules) payoffFailed() {
	var pl struct {
		Amount money.Amount `json:"amount"`
	}
	l := r.loanFor()
	if !r.payload(&pl) || l == nil || l.State.Terminal() || pl.Amount.Currency == "" {
		return
	}
	r.toBuyer(PayoffRefused, l, fmt.Sprintf("Early repayment of loan %s refused", ShortRef(l.ID)),
		fmt.Sprintf("Your bank refused the debit of %s to pay off %s early. Nothing changed: the loan goes on as scheduled. "+
			"Put the money in your business checking account and pay it off again from the loan's page.", pl.Amount.Display(), loanRef(l)))
}

// chargedOff: the lender wrote the loan off; the buyer now owes the lender directly.
func (r *srules) chargedOff() {
	var pl struct {
		Balance      money.Amount `json:"balance"`
		PastDueSince time.Time    `json:"past_due_since"`
	}
	l := r.loanFor()
	if !r.payload(&pl) || l == nil || l.State != credit.ChargedOff || pl.Balance.Currency == "" {
		return
	}
	since := ""
	if !pl.PastDueSince.IsZero() {
		since = ", past due since " + railDay(pl.PastDueSince)
	}
	r.toBuyer(LoanChargedOff, l, fmt.Sprintf("Pay Later loan %s charged off", ShortRef(l.ID)),
		fmt.Sprintf("The lender charged off %s%s. The %s it still owes is now collected by the lender directly, not through the "+
			"platform: contact the lender to settle it. Your Pay Later line is closed.", loanRef(l), since, pl.Balance.Display()))
}

// debitToRecord: without a bank adapter, an admin records the bank's answer to each debit
// request, while it waits for one.
func (r *srules) debitToRecord() {
	l := r.loanFor()
	if !r.s.ManualBank || l == nil {
		return
	}
	d := r.debitFor(l, escrow.DebitRequested)
	if d == nil || d.Sandbox {
		return // answered since, or the sandbox bank answers it
	}
	r.toAdmins(DebitToRecord, l, OperationsDebitsLink, fmt.Sprintf("Record the bank's answer to Pay Later debit %s", ShortRef(d.ID)),
		fmt.Sprintf("%s asks %s's bank for %s from the business checking account %s (debit %s, %s). No bank adapter runs on this "+
			"platform: read the bank's report and record whether it was paid on the Operations page (programs: POST "+
			"/v1/credit/bank-debits/%s/result). Until then the loan takes no other debit.",
			loanRef(l), r.buyerName(), d.Amount.Display(), accountText(d), d.ID, d.Kind, d.ID))
}

// debitAttention: the bank gave no answer after every attempt; whether money moved is unknown
// until an operator retries the request, while it still waits for one.
func (r *srules) debitAttention() {
	l := r.loanFor()
	if l == nil {
		return
	}
	d := r.debitFor(l, escrow.DebitAttention)
	if d == nil {
		return // retried since
	}
	lastError := ""
	if d.LastError != "" {
		lastError = " (last error: " + d.LastError + ")"
	}
	r.toAdmins(DebitAttention, l, OperationsDebitAttentionLink, fmt.Sprintf("Pay Later debit %s needs an operator", ShortRef(d.ID)),
		fmt.Sprintf("The bank gave no answer to debit %s of %s for %s of %s after %d attempts%s. Whether money moved is unknown, and "+
			"the loan takes no other debit until you act: on the Operations page, record the bank's answer if its report has "+
			"one, or once the bank answers again ask it again (programs: POST /v1/credit/bank-debits/%s/retry). The bank is "+
			"asked with the same reference, so nothing is debited twice.",
			d.ID, d.Amount.Display(), loanRef(l), r.buyerName(), d.Attempts, lastError, d.ID))
}

// debitUnapplied: the bank paid, but the loan no longer owed that amount; the money is settled
// with the lender by an operator.
func (r *srules) debitUnapplied() {
	l := r.loanFor()
	if l == nil {
		return
	}
	d := r.debitFor(l, escrow.DebitUnapplied)
	if d == nil {
		return
	}
	// The Operations page lists no unapplied debit: no command settles one (the difference is
	// settled with the lender off the platform), so the loan's page is where to look.
	r.toAdmins(DebitUnapplied, l, LoanLink(l.ID), fmt.Sprintf("Settle Pay Later debit %s with the lender", ShortRef(d.ID)),
		fmt.Sprintf("The bank paid debit %s of %s for %s of %s, but the loan had changed meanwhile (a refund of its order repaid "+
			"part of it), so the payment was not applied to the loan. Settle the difference with the lender. "+
			"GET /v1/credit/bank-debits?status=unapplied lists every such debit.",
			d.ID, d.Amount.Display(), loanRef(l), r.buyerName()))
}

// lenderAttention: the lender gave no answer to a request after every attempt, or an answer
// that cannot be recorded (a disbursement of another amount or reference than the loan's);
// nothing was booked, and an operator retries it once the lender is fixed — while it still
// waits for one.
func (r *srules) lenderAttention() {
	var ref subjectRefs
	q := r.s.LenderRequest
	if !r.payload(&ref) || q == nil || q.ID != ref.RequestID || q.Status != escrow.LenderAttention {
		return // retried since
	}
	what := "the decision on Pay Later application " + q.ApplicationID
	if q.Kind == escrow.LenderDisbursement {
		what = fmt.Sprintf("the disbursement of %s for Pay Later loan %s", q.Amount.Display(), q.LoanID)
	}
	why := "the lender gave no usable answer"
	if q.LastError != "" {
		why += " (" + q.LastError + ")"
	}
	orderID := ""
	if l := r.loanFor(); l != nil {
		orderID = l.OrderID
	}
	r.tell(LenderAttention, ledger.Platform, trade.RoleAdmin, orderID, OperationsLenderLink,
		fmt.Sprintf("Pay Later lender request %s needs an operator", ShortRef(q.ID)),
		fmt.Sprintf("The lender was asked for %s of %s %s and %s. Nothing was booked, and %s until you act: once the lender is "+
			"fixed, ask it again on the Operations page (programs: POST /v1/credit/lender-requests/%s/retry). The lender is "+
			"asked with the same reference, so nothing is paid twice.", what, r.buyerName(), times(q.Attempts), why, waiting(q), q.ID))
}

// disbursementOverdue: the lender accepted to pay a disbursement and its money has not arrived
// by the end of the latest disbursement day (R11: 1–3 working days after the agreement); the
// order stays unpaid until it does. The admins chase the lender — while the money is still
// awaited.
func (r *srules) disbursementOverdue() {
	var ref subjectRefs
	q, l := r.s.LenderRequest, r.loanFor()
	if !r.payload(&ref) || q == nil || l == nil || q.ID != ref.RequestID || q.LoanID != l.ID || q.Status != escrow.LenderAwaitingFunds ||
		q.OverdueAt == nil {
		return // the money arrived since, or the loan lapsed
	}
	r.tell(DisbursementOverdue, ledger.Platform, trade.RoleAdmin, l.OrderID, OperationsLenderFundsLink,
		fmt.Sprintf("Chase the lender: %s for Pay Later loan %s is overdue", q.Amount.Display(), ShortRef(l.ID)),
		fmt.Sprintf("The lender accepted to pay %s into the order's escrow for %s of %s, quoting %q, and its money was due by "+
			"the end of %s (New York), %d US business days after the agreement of %s. It has not arrived, and the order stays unpaid "+
			"until it does. Ask the lender to send it quoting %q (its own reference for the request is %s); it pays the order as "+
			"soon as it is reported on the pay_later rail (programs: POST /v1/rails/pay_later/credits). If it never comes, the loan "+
			"is cancelled when the payment lapses.", q.Amount.Display(), loanRef(l), r.buyerName(),
			q.PaymentReference, railDay(l.Agreement.DisbursementLatest), credit.DisbursementDaysMax, railDay(l.Agreement.AgreedAt),
			q.PaymentReference, q.ID))
}

func times(n int) string {
	if n == 1 {
		return "once"
	}
	return strconv.Itoa(n) + " times"
}

// waiting says who waits on a lender request in attention.
func waiting(q *escrow.LenderRequest) string {
	if q.Kind == escrow.LenderDisbursement {
		return "the order stays unpaid"
	}
	return "the buyer's application stays undecided"
}

func (r *srules) buyerName() string {
	if r.s.Buyer != "" {
		return r.s.Buyer
	}
	return "the buyer"
}

func accountText(d *escrow.DebitRequest) string {
	if d.AccountLast4 == "" {
		return "on file"
	}
	return "ending " + d.AccountLast4
}

// suspense: money arrived that matched no order's payment; an admin allocates it (R8), while it
// is still held.
func (r *srules) suspense() {
	var ref subjectRefs
	x := r.s.Suspense
	if !r.payload(&ref) || x == nil || x.ID != ref.ID || x.State != escrow.SuspenseOpen {
		return // allocated since
	}
	payer, quoting := "an unknown payer", "with no reference"
	if x.Payer != "" {
		payer = x.Payer
	}
	if x.Reference != "" {
		quoting = fmt.Sprintf("quoting %q", x.Reference)
	}
	why := ""
	if x.Note != "" {
		why = " (" + strings.ReplaceAll(x.Note, "_", " ") + ")"
	}
	r.tell(SuspenseToAllocate, ledger.Platform, trade.RoleAdmin, "", SuspenseLink, "Allocate "+x.Amount.Display()+" held in suspense",
		fmt.Sprintf("%s arrived by %s from %s %s and matched no order's payment%s, so it is held in suspense: it is covered only "+
			"once it is allocated to an order's payment. Find the order and payment it belongs to and allocate it on the Suspense page.",
			x.Amount.Display(), x.Method, payer, quoting, why))
}

// RemindInstallment is what a due installment reminder asks for, judged against the loan as it
// is now: the notice to the buyer, or none and why the reminder no longer applies (the outcome
// "stale: …") — the loan closed, the installment paid or cancelled, its due date passed.
func RemindInstallment(rm Reminder, l *escrow.LoanRecord, now time.Time) ([]Notice, string) {
	loanID, n, ok := installmentRef(rm.Ref)
	switch {
	case !ok:
		return nil, "stale: not an installment: " + rm.Ref
	case l == nil || l.ID != loanID:
		return nil, "stale: no such loan"
	case l.State.Terminal():
		return nil, "stale: the loan is " + string(l.State)
	}
	var in *credit.Installment
	for i := range l.Installments {
		if l.Installments[i].N == n {
			in = &l.Installments[i]
		}
	}
	switch {
	case in == nil:
		return nil, fmt.Sprintf("stale: the loan has no installment %d", n)
	case in.Status != credit.Scheduled:
		return nil, fmt.Sprintf("stale: installment %d is %s", n, in.Status)
	case !now.Before(in.DueDate):
		return nil, "stale: the due date has passed"
	}
	due := l.Due(in.DueDate)
	overdue := ""
	if l.State == credit.PastDue {
		overdue = ", with what is overdue"
	}
	r := srules{}
	r.toBuyer(InstallmentDueNear, l, fmt.Sprintf("Pay Later: %s will be debited on %s", due.Display(), railDay(in.DueDate)),
		fmt.Sprintf("Installment %d of %d of %s is due on %s: %s%s will be debited from your business checking account that day. "+
			"Make sure the money is there: a refused debit makes the loan past due and freezes your Pay Later line. "+
			"You may also pay the loan off early from its page.", in.N, len(l.Installments), loanRef(l), railDay(in.DueDate),
			due.Display(), overdue))
	return r.notices, "sent"
}

// installmentRef splits "<loan ID>/<n>".
func installmentRef(ref string) (loanID string, n int, ok bool) {
	i := strings.LastIndexByte(ref, '/')
	if i <= 0 {
		return "", 0, false
	}
	n, err := strconv.Atoi(ref[i+1:])
	return ref[:i], n, err == nil && n > 0
}

// railDay is a date of the US rails (a due date, at midnight in New York) as the buyer reads it,
// in the zone it was computed in.
func railDay(t time.Time) string { return t.Format("Mon 2 Jan 2006") }
