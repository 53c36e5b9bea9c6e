package notify_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/credit"
	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/ledger"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/notify"
	"github.com/tradeassure/tradeassure/payment"
)

func usd(minor int64) money.Amount { return money.New(minor, "USD") }

// ny is New York's winter offset, as a due date read back from the database carries it.
var ny = time.FixedZone("", -5*3600)

// sampleLoan is a three-month loan of USD 3,000.00 of buyer "buyer" financing order
// "ord_0123456789abcdef", disbursed, its installments due at midnight in New York on the 26th of
// April, May and June 2026, each USD 1,020.00 (principal 1,000.00, fee 20.00).
func sampleLoan(state credit.State) *escrow.LoanRecord {
	l := &escrow.LoanRecord{Loan: credit.Loan{ID: "loan_00000000aaaa1111", LineID: "cl_1", BuyerID: "buyer",
		OrderID: "ord_0123456789abcdef", LenderID: "builtin", State: state, DisbursedAt: t0}}
	for n := 1; n <= 3; n++ {
		l.Installments = append(l.Installments, credit.Installment{N: n, DueDate: time.Date(2026, time.Month(3+n), 26, 0, 0, 0, 0, ny),
			Principal: usd(1_000_00), Fee: usd(20_00), Credit: usd(0), Total: usd(1_020_00), Status: credit.Scheduled, Paid: usd(0)})
	}
	return l
}

func loanEvent(l *escrow.LoanRecord, typ string, payload any) escrow.Event {
	b, _ := json.Marshal(payload)
	return escrow.Event{GlobalSeq: 9, Stream: l.ID, Seq: 4, Type: typ, At: t0, Payload: b}
}

// to lists a plan's notices as "org/role:kind".
func to(p notify.Plan) []string {
	var out []string
	for _, n := range p.Notices {
		for _, r := range n.To.Roles {
			out = append(out, n.To.OrgID+"/"+string(r)+":"+string(n.Kind))
		}
	}
	return out
}

// TestApplicationAnswerTellsTheBuyer: the buyer waiting for the lender hears its answer — an
// approval with the limit, a decline with every reason, a request for more information with
// what is missing and the application's page to complete it — and a request it answered before
// the notifier saw it asks nothing. R11
func TestApplicationAnswerTellsTheBuyer(t *testing.T) {
	for name, c := range map[string]struct {
		status   credit.ApplicationStatus
		reasons  []credit.Reason
		kind     notify.Kind
		link     string
		contains string
	}{
		"approved": {credit.Approved, []credit.Reason{{Code: "revenue", Message: "annual revenue USD 500,000.00"}},
			notify.CreditDecided, notify.CreditLink, "USD 100,000.00"},
		"declined": {credit.Declined, []credit.Reason{{Code: "revenue_below_minimum", Message: "annual revenue must be at least USD 100,000.00"},
			{Code: "charged_off_loan", Message: "1 earlier Pay Later loan(s) of this business were charged off unpaid"}},
			notify.CreditDecided, "/credit/applications/app_1", "at least USD 100,000.00; 1 earlier"},
		"more information": {credit.MoreInformationNeeded, []credit.Reason{{Code: "ein_missing", Message: "give the business's EIN"}},
			notify.CreditInformationNeeded, "/credit/applications/app_1", "give the business's EIN"},
	} {
		d := credit.Decision{Status: credit.DecisionStatus(c.status), Reasons: c.reasons, Limit: usd(0)}
		if c.status == credit.Approved {
			d.Limit = usd(100_000_00)
		}
		app := &credit.Application{ID: "app_1", BuyerID: "buyer", Status: c.status, Decision: &d}
		b, _ := json.Marshal(map[string]any{"application_id": "app_1", "status": c.status})
		ev := escrow.Event{GlobalSeq: 5, Stream: "buyer", Type: "credit.application_decided", Payload: b}
		p := notify.ForSubject(ev, notify.Subject{Application: app})
		if got := strings.Join(to(p), ","); got != "buyer/buyer:"+string(c.kind) || p.Notices[0].Link != c.link ||
			!strings.Contains(p.Notices[0].Body, c.contains) || p.Notices[0].OrderID != "" {
			t.Errorf("%s: %s %+v", name, got, p.Notices)
		}
		app.OrderID = "ord_1" // applied at checkout: the notice names the order
		if p := notify.ForSubject(ev, notify.Subject{Application: app}); p.Notices[0].OrderID != "ord_1" {
			t.Errorf("%s at checkout: %+v", name, p.Notices)
		}
		app.Status, app.Decision = credit.Submitted, nil // completed and sent back since
		if p := notify.ForSubject(ev, notify.Subject{Application: app}); len(p.Notices) != 0 {
			t.Errorf("%s, answered since: %+v", name, p.Notices)
		}
	}
}

// TestRefusedDebitTellsTheBuyer: a refused automatic debit asks the buyer to fund its account —
// the loan is past due, the line frozen, the charge-off date named — unless the loan was cured
// before the notifier saw it; a refused payoff says nothing changed. R11
func TestRefusedDebitTellsTheBuyer(t *testing.T) {
	l := sampleLoan(credit.PastDue)
	l.Installments[0].Status = credit.Billed
	ev := loanEvent(l, "loan.debit_failed", map[string]any{"amount": usd(1_020_00), "line_status": "frozen"})
	p := notify.ForSubject(ev, notify.Subject{Loan: l})
	if got := strings.Join(to(p), ","); got != "buyer/buyer:loan_past_due" || p.Notices[0].Link != "/credit/loans/"+l.ID ||
		p.Notices[0].OrderID != l.OrderID {
		t.Fatalf("past due: %s %+v", got, p.Notices)
	}
	for _, want := range []string{"USD 1,020.00", "frozen", "3 and 7 business days", "Mon 24 Aug 2026"} { // 120 days after 26 April
		if !strings.Contains(p.Notices[0].Body, want) {
			t.Errorf("past due notice lacks %q: %s", want, p.Notices[0].Body)
		}
	}
	cured := sampleLoan(credit.Active)
	if p := notify.ForSubject(ev, notify.Subject{Loan: cured}); len(p.Notices) != 0 {
		t.Fatalf("cured before the notifier saw it: %+v", p.Notices)
	}
	if p := notify.ForSubject(loanEvent(l, "loan.debit_failed", map[string]any{"amount": usd(1_020_00)}),
		notify.Subject{Loan: sampleLoan(credit.PastDue)}); len(p.Notices) != 1 {
		t.Fatalf("past due with no installment billed yet still tells: %+v", p.Notices)
	}

	payoff := loanEvent(l, "loan.payoff_failed", map[string]any{"loan_id": l.ID, "debit_id": "pld_1", "kind": "payoff", "amount": usd(3_020_00)})
	p = notify.ForSubject(payoff, notify.Subject{Loan: sampleLoan(credit.Active)})
	if got := strings.Join(to(p), ","); got != "buyer/buyer:payoff_refused" || !strings.Contains(p.Notices[0].Body, "USD 3,020.00") {
		t.Fatalf("payoff refused: %s %+v", got, p.Notices)
	}
	if p := notify.ForSubject(payoff, notify.Subject{Loan: sampleLoan(credit.PaidOff)}); len(p.Notices) != 0 {
		t.Fatalf("paid off since: %+v", p.Notices)
	}
}

// TestChargeOffTellsTheBuyer: the buyer learns its loan left the platform and whom it owes.
// R11
func TestChargeOffTellsTheBuyer(t *testing.T) {
	l := sampleLoan(credit.ChargedOff)
	ev := loanEvent(l, "loan.charged_off", map[string]any{"balance": usd(3_060_00),
		"past_due_since": l.Installments[0].DueDate, "line_status": "closed"})
	p := notify.ForSubject(ev, notify.Subject{Loan: l})
	if got := strings.Join(to(p), ","); got != "buyer/buyer:loan_charged_off" ||
		!strings.Contains(p.Notices[0].Body, "USD 3,060.00") || !strings.Contains(p.Notices[0].Body, "Sun 26 Apr 2026") {
		t.Fatalf("charged off: %s %+v", got, p.Notices)
	}
}

// TestDisbursedSetsInstallmentReminders: each scheduled installment gets a reminder
// DueReminderLead before its debit, keyed by loan and installment; a paid one gets none.
func TestDisbursedSetsInstallmentReminders(t *testing.T) {
	l := sampleLoan(credit.Disbursed)
	l.Installments[2].Status = credit.Cancelled
	p := notify.ForSubject(loanEvent(l, "loan.disbursed", map[string]any{"order_id": l.OrderID}), notify.Subject{Loan: l})
	if len(p.Notices) != 0 || len(p.Reminders) != 2 {
		t.Fatalf("plan %+v", p)
	}
	for i, r := range p.Reminders {
		n := strconv.Itoa(i + 1)
		if r.Kind != notify.InstallmentDueNear || r.Key != "loan_due/"+l.ID+"/"+n || r.Ref != l.ID+"/"+n ||
			r.OrderID != l.OrderID || !r.DueAt.Equal(l.Installments[i].DueDate.Add(-notify.DueReminderLead)) {
			t.Errorf("reminder %s: %+v", n, r)
		}
	}
}

// TestInstallmentReminderApplies judges a due installment reminder against the loan as it is:
// it tells the buyer what will be debited and when, or finds itself stale.
func TestInstallmentReminderApplies(t *testing.T) {
	base := sampleLoan(credit.Active)
	due := base.Installments[1].DueDate
	rm := notify.Reminder{Key: "loan_due/" + base.ID + "/2", Kind: notify.InstallmentDueNear, OrderID: base.OrderID,
		Ref: base.ID + "/2", DueAt: due.Add(-notify.DueReminderLead)}
	for name, c := range map[string]struct {
		change   func(l *escrow.LoanRecord)
		now      time.Time
		outcome  string
		contains string
	}{
		"scheduled": {func(l *escrow.LoanRecord) { l.Installments[0].Status = credit.Paid }, rm.DueAt, "sent", "USD 1,020.00 will be debited"},
		"past due": {func(l *escrow.LoanRecord) {
			l.State, l.Installments[0].Status = credit.PastDue, credit.Billed
		}, rm.DueAt, "sent", "USD 2,040.00, with what is overdue"},
		"paid early":  {func(l *escrow.LoanRecord) { l.Installments[1].Status = credit.Paid }, rm.DueAt, "stale: installment 2 is paid", ""},
		"cancelled":   {func(l *escrow.LoanRecord) { l.Installments[1].Status = credit.Cancelled }, rm.DueAt, "stale: installment 2 is cancelled", ""},
		"paid off":    {func(l *escrow.LoanRecord) { l.State = credit.PaidOff }, rm.DueAt, "stale: the loan is paid_off", ""},
		"charged off": {func(l *escrow.LoanRecord) { l.State = credit.ChargedOff }, rm.DueAt, "stale: the loan is charged_off", ""},
		"too late":    {func(*escrow.LoanRecord) {}, due, "stale: the due date has passed", ""},
		"other loan":  {func(l *escrow.LoanRecord) { l.ID = "loan_other" }, rm.DueAt, "stale: no such loan", ""},
		"no such installment": {func(l *escrow.LoanRecord) { l.Installments = l.Installments[:1] }, rm.DueAt,
			"stale: the loan has no installment 2", ""},
	} {
		l := sampleLoan(credit.Active)
		c.change(l)
		ns, outcome := notify.RemindInstallment(rm, l, c.now)
		if outcome != c.outcome {
			t.Errorf("%s: %q, want %q", name, outcome, c.outcome)
			continue
		}
		if c.contains == "" {
			if len(ns) != 0 {
				t.Errorf("%s: stale yet tells %+v", name, ns)
			}
			continue
		}
		if len(ns) != 1 || ns[0].To.OrgID != "buyer" || ns[0].Kind != notify.InstallmentDueNear || ns[0].Link != "/credit/loans/"+base.ID ||
			!strings.Contains(ns[0].Body, c.contains) || !strings.Contains(ns[0].Title, "on Tue 26 May 2026") {
			t.Errorf("%s: %+v", name, ns)
		}
	}
	if _, outcome := notify.RemindInstallment(notify.Reminder{Kind: notify.InstallmentDueNear, Ref: "garbled"}, base, rm.DueAt); !strings.HasPrefix(outcome, "stale: ") {
		t.Errorf("a garbled reference: %q", outcome)
	}
	if _, outcome := notify.RemindInstallment(rm, nil, rm.DueAt); outcome != "stale: no such loan" {
		t.Errorf("a missing loan: %q", outcome)
	}
}

// TestAdminsToldOfDebitsToSettle: the platform's admins hear of a debit only an operator can
// move on — the bank's answer to record where no bank adapter runs, a debit the bank never
// answered, a payment that could not be applied — while it still waits for them: on the
// Operations page's queue for it (the API's operation named for programs), or for a payment not
// applied, which no queue lists, on the loan's page; the buyer and the supplier are not told.
func TestAdminsToldOfDebitsToSettle(t *testing.T) {
	l := sampleLoan(credit.Active)
	debit := func(st escrow.DebitStatus) *escrow.DebitRequest {
		return &escrow.DebitRequest{ID: "pld_00000000dddd0001", LoanID: l.ID, BuyerID: l.BuyerID, Kind: escrow.DebitInstallment,
			Amount: usd(1_020_00), AccountLast4: "4321", Status: st, Attempts: 8, LastError: "bank unavailable: 503"}
	}
	payload := map[string]any{"loan_id": l.ID, "debit_id": "pld_00000000dddd0001", "kind": "installment", "amount": usd(1_020_00)}
	for name, c := range map[string]struct {
		typ      string
		now      escrow.DebitStatus // the debit's status when the notifier handles the event
		manual   bool
		sandbox  bool
		want     string
		link     string
		contains []string
	}{
		"to record": {"loan.debit_requested", escrow.DebitRequested, true, false, "platform/admin:debit_to_record", "/admin/operations#debits",
			[]string{"record whether it was paid on the Operations page", "POST /v1/credit/bank-debits/pld_00000000dddd0001/result"}},
		"a bank answers":      {"loan.debit_requested", escrow.DebitRequested, false, false, "", "", nil},
		"the sandbox answers": {"loan.debit_requested", escrow.DebitRequested, true, true, "", "", nil},
		"recorded since":      {"loan.debit_requested", escrow.DebitSucceeded, true, false, "", "", nil},
		"attention": {"loan.debit_attention", escrow.DebitAttention, false, false, "platform/admin:debit_attention", "/admin/operations#debit-attention",
			[]string{"after 8 attempts (last error: bank unavailable: 503)", "on the Operations page", "POST /v1/credit/bank-debits/pld_00000000dddd0001/retry"}},
		"attention, retried since": {"loan.debit_attention", escrow.DebitRequested, false, false, "", "", nil},
		"unapplied": {"loan.debit_unapplied", escrow.DebitUnapplied, false, false, "platform/admin:debit_unapplied", "/credit/loans/" + l.ID,
			[]string{"Settle the difference with the lender", "GET /v1/credit/bank-debits?status=unapplied"}},
	} {
		d := debit(c.now)
		d.Sandbox = c.sandbox
		p := notify.ForSubject(loanEvent(l, c.typ, payload), notify.Subject{Buyer: "Maple Kids", Loan: l, Debit: d, ManualBank: c.manual})
		if got := strings.Join(to(p), ","); got != c.want {
			t.Errorf("%s: %q, want %q", name, got, c.want)
			continue
		}
		if c.want == "" {
			continue
		}
		n := p.Notices[0]
		for _, s := range append(c.contains, "Maple Kids") {
			if !strings.Contains(n.Body, s) {
				t.Errorf("%s: the body lacks %q: %s", name, s, n.Body)
			}
		}
		if n.Link != c.link || n.OrderID != l.OrderID {
			t.Errorf("%s: link %q, order %q", name, n.Link, n.OrderID)
		}
	}
	other := debit(escrow.DebitAttention)
	other.ID = "pld_other"
	if p := notify.ForSubject(loanEvent(l, "loan.debit_attention", payload), notify.Subject{Loan: l, Debit: other}); len(p.Notices) != 0 {
		t.Errorf("another debit than the event's: %+v", p.Notices)
	}
}

// TestAdminsToldOfLenderRequestsToRetry: the platform's admins hear of a lender request marked
// for an operator — a decision the lender never answered, a disbursement whose answer could not
// be recorded — with the reason and the request to retry on the Operations page (the API's
// operation named for programs), while it still waits for them; the buyer is not told. R11
func TestAdminsToldOfLenderRequestsToRetry(t *testing.T) {
	l := sampleLoan(credit.Agreed)
	for name, c := range map[string]struct {
		req      escrow.LenderRequest
		stream   string
		want     string
		link     string
		contains []string
	}{
		"a decision never answered": {
			escrow.LenderRequest{ID: "plr_00000000eeee0001", Kind: escrow.LenderDecision, BuyerID: "buyer", ApplicationID: "app_1",
				Status: escrow.LenderAttention, Attempts: 8, LastError: "lender unavailable: 503"},
			"buyer", "platform/admin:lender_attention", "/admin/operations#lender-requests",
			[]string{"8 times", "(lender unavailable: 503)", "application stays undecided", "ask it again on the Operations page",
				"/v1/credit/lender-requests/plr_00000000eeee0001/retry"}},
		"a disbursement that does not match": {
			escrow.LenderRequest{ID: "plr_00000000eeee0002", Kind: escrow.LenderDisbursement, BuyerID: "buyer", LoanID: l.ID,
				Amount: usd(3_000_00), Status: escrow.LenderAttention, Attempts: 1, LastError: "the lender would pay USD 2999.00"},
			l.ID, "platform/admin:lender_attention", "/admin/operations#lender-requests",
			[]string{"once", "USD 3,000.00", "order stays unpaid", "Maple Kids"}},
		"retried since": {
			escrow.LenderRequest{ID: "plr_00000000eeee0003", Kind: escrow.LenderDecision, BuyerID: "buyer", ApplicationID: "app_1",
				Status: escrow.LenderRequested},
			"buyer", "", "", nil},
	} {
		b, _ := json.Marshal(map[string]any{"request_id": c.req.ID, "kind": c.req.Kind})
		ev := escrow.Event{GlobalSeq: 12, Stream: c.stream, Type: "credit.lender_request_attention", Payload: b}
		sub := notify.Subject{Buyer: "Maple Kids", LenderRequest: &c.req}
		if c.stream == l.ID {
			sub.Loan = l
		}
		p := notify.ForSubject(ev, sub)
		if got := strings.Join(to(p), ","); got != c.want {
			t.Errorf("%s: %q, want %q", name, got, c.want)
			continue
		}
		if c.want == "" {
			continue
		}
		n := p.Notices[0]
		for _, s := range c.contains {
			if !strings.Contains(n.Body, s) {
				t.Errorf("%s: the body lacks %q: %s", name, s, n.Body)
			}
		}
		if n.Link != c.link || (c.stream == l.ID) != (n.OrderID == l.OrderID) {
			t.Errorf("%s: link %q, order %q", name, n.Link, n.OrderID)
		}
	}
	other := escrow.LenderRequest{ID: "plr_other", Kind: escrow.LenderDecision, Status: escrow.LenderAttention}
	b, _ := json.Marshal(map[string]any{"request_id": "plr_00000000eeee0001"})
	ev := escrow.Event{Stream: "buyer", Type: "credit.lender_request_attention", Payload: b}
	if p := notify.ForSubject(ev, notify.Subject{LenderRequest: &other}); len(p.Notices) != 0 {
		t.Errorf("another request than the event's: %+v", p.Notices)
	}
}

// TestSuspenseTellsAdmins: money that matched no order's payment asks the platform's admins
// to allocate it (R8), on the suspense page, unless it was allocated before the notifier saw it.
func TestSuspenseTellsAdmins(t *testing.T) {
	x := &escrow.SuspenseItem{ID: "sus_1", Method: payment.TTWire, Amount: usd(2_340_00), Reference: "TA-UNKNOWN", Payer: "Maple Kids",
		ReceivedAt: t0, State: escrow.SuspenseOpen, Note: "no_matching_payment"}
	b, _ := json.Marshal(x)
	ev := escrow.Event{GlobalSeq: 11, Stream: ledger.Platform, Type: "suspense.received", Payload: b}
	p := notify.ForSubject(ev, notify.Subject{Suspense: x})
	if got := strings.Join(to(p), ","); got != "platform/admin:suspense_to_allocate" || p.Notices[0].Link != "/admin/suspense" ||
		!strings.Contains(p.Notices[0].Body, `USD 2,340.00 arrived by tt_wire from Maple Kids quoting "TA-UNKNOWN"`) ||
		!strings.Contains(p.Notices[0].Body, "(no matching payment)") {
		t.Fatalf("suspense: %s %+v", got, p.Notices)
	}
	x.State = escrow.SuspenseAllocated
	if p := notify.ForSubject(ev, notify.Subject{Suspense: x}); len(p.Notices) != 0 {
		t.Fatalf("allocated since: %+v", p.Notices)
	}
}

// TestOtherEventsOutsideOrdersAskNothing: the events of organizations, loans and the platform
// that no one must act on — a step the actor took themself, good news, a record — tell no one,
// whatever their subject.
func TestOtherEventsOutsideOrdersAskNothing(t *testing.T) {
	l := sampleLoan(credit.PastDue)
	full := notify.Subject{Buyer: "Maple Kids", Loan: l, ManualBank: true,
		Application: &credit.Application{ID: "app_1", BuyerID: "buyer", Status: credit.MoreInformationNeeded, Decision: &credit.Decision{}},
		Debit:       &escrow.DebitRequest{ID: "pld_1", LoanID: l.ID, Status: escrow.DebitAttention, Amount: usd(1)},
		Suspense:    &escrow.SuspenseItem{ID: "sus_1", State: escrow.SuspenseOpen, Amount: usd(1)}}
	payload := map[string]any{"application_id": "app_1", "debit_id": "pld_1", "id": "sus_1", "amount": usd(1), "status": "more_information_needed"}
	for _, typ := range []string{"credit.application_submitted", "credit.line_opened", "credit.lender_request_retried",
		"credit.statement_closed", "loan.offered", "loan.accepted", "loan.cancelled", "loan.disbursement_requested",
		"loan.debit_succeeded", "loan.debit_retried", "loan.cured", "loan.refund_applied", "loan.paid_off",
		"suspense.allocated", "guarantee.funded", "payout.sent", "payout.netted", "org.eligibility", "org.coverage_limit"} {
		if p := notify.ForSubject(loanEvent(l, typ, payload), full); len(p.Notices)+len(p.Reminders) != 0 {
			t.Errorf("%s asks %+v", typ, p)
		}
	}
}

// TestAdminsToldToChaseTheLender: a disbursement the lender accepted to pay whose money is
// overdue tells the platform's admins — not the buyer — what to ask the lender for (the amount,
// the reference to quote, the day it was due), linking the Operations page's section of
// disbursements awaiting the lender's money; once the money arrived, or the loan lapsed, the
// event asks nothing. R11
func TestAdminsToldToChaseTheLender(t *testing.T) {
	l := sampleLoan(credit.Agreed)
	l.Agreement.AgreedAt = time.Date(2025, 11, 26, 10, 0, 0, 0, ny)
	l.Agreement.DisbursementLatest = time.Date(2025, 12, 2, 10, 0, 0, 0, ny)
	overdueAt := time.Date(2025, 12, 3, 5, 0, 0, 0, time.UTC)
	awaiting := escrow.LenderRequest{ID: "plr_00000000ffff0001", Kind: escrow.LenderDisbursement, BuyerID: "buyer", LoanID: l.ID,
		Amount: usd(3_000_00), PaymentReference: "TA-7Q2K-9D", Status: escrow.LenderAwaitingFunds, OverdueAt: &overdueAt}
	recorded, lapsed, other := awaiting, awaiting, awaiting
	recorded.Status = escrow.LenderRecorded
	lapsed.Status = escrow.LenderAttention
	other.LoanID = "loan_other"
	ev := loanEvent(l, "loan.disbursement_overdue", map[string]any{"request_id": awaiting.ID, "loan_id": l.ID})
	for name, c := range map[string]struct {
		req  *escrow.LenderRequest
		want string
	}{
		"overdue":         {&awaiting, "platform/admin:disbursement_overdue"},
		"the money came":  {&recorded, ""},
		"the loan lapsed": {&lapsed, ""},
		"another loan's":  {&other, ""},
		"no such request": {nil, ""},
	} {
		p := notify.ForSubject(ev, notify.Subject{Buyer: "Maple Kids", Loan: l, LenderRequest: c.req})
		if got := strings.Join(to(p), ","); got != c.want {
			t.Errorf("%s: %q, want %q", name, got, c.want)
			continue
		}
		if c.want == "" {
			continue
		}
		n := p.Notices[0]
		if n.Link != notify.OperationsLenderFundsLink || n.OrderID != l.OrderID ||
			n.Title != "Chase the lender: USD 3,000.00 for Pay Later loan aaaa1111 is overdue" {
			t.Errorf("%s: %+v", name, n)
		}
		for _, s := range []string{"USD 3,000.00", `quoting "TA-7Q2K-9D"`, "Maple Kids", "by the end of Tue 2 Dec 2025 (New York)",
			"3 US business days after the agreement of Wed 26 Nov 2025", "plr_00000000ffff0001", "POST /v1/rails/pay_later/credits",
			"order stays unpaid"} {
			if !strings.Contains(n.Body, s) {
				t.Errorf("%s: the body lacks %q: %s", name, s, n.Body)
			}
		}
	}
}
