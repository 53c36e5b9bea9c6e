package escrow_test

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/credit"
	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/internal/railtest"
	"github.com/tradeassure/tradeassure/ledger"
	"github.com/tradeassure/tradeassure/payment"
	"github.com/tradeassure/tradeassure/trade"
)

// noSandbox restarts the service as a server without the sandbox (serve without --sandbox):
// the built-in lender decides and accepts to pay, but nothing pays for it.
func (e *env) noSandbox() { e.restart(escrow.Sandbox{}, railtest.Accounts()) }

// lenderPays reports money on the pay_later rail, as the lender's bank statement would.
func (e *env) lenderPays(id string, amount int64, ref string) escrow.Allocation {
	e.t.Helper()
	return must(e.svc.ReceiveFunds(e.ctx, id, escrow.Incoming{Method: payment.PayLater, Amount: dollars(amount), Reference: ref,
		Payer: "Builtin Lending Co"}))
}

// streamPayloads returns the payloads of a stream's events of type typ.
func (e *env) streamPayloads(stream, typ string) []map[string]any {
	e.t.Helper()
	var evs []escrow.Event
	if err := e.db.Read(e.ctx, func(r escrow.Reader) error {
		var err error
		evs, err = r.Events(e.ctx, stream)
		return err
	}); err != nil {
		e.t.Fatal(err)
	}
	var out []map[string]any
	for _, ev := range evs {
		if ev.Type == typ {
			var m map[string]any
			if err := json.Unmarshal(ev.Payload, &m); err != nil {
				e.t.Fatal(err)
			}
			out = append(out, m)
		}
	}
	return out
}

// awaitingFunds drives the worked example on a server without the sandbox to the lender's
// acceptance: the disbursement timer asks, the lender worker records that the lender accepted to
// pay, and nothing more — the order stays unpaid, the loan agreed, through more timer and lender
// rounds days later. It returns the order, the loan and the request.
func (e *env) awaitingFunds() (*trade.Order, escrow.LoanRecord, escrow.LenderRequest) {
	e.t.Helper()
	e.noSandbox()
	e.clock.Set(agreedAt)
	e.approve(500_000_00) // the built-in lender still underwrites: its rules are real policy
	o := must(e.financed(e.buyer, "USD", 10_00))
	if p := o.Payments[0]; p.Sandbox || p.PayTo != nil {
		e.t.Fatalf("Pay Later instructions without the sandbox: %+v", p)
	}
	l := must(e.svc.OfferLoan(e.ctx, e.buyer, e.key(), o.ID, 6))
	l = must(e.svc.AcceptLoan(e.ctx, e.buyer, e.key(), l.ID))
	for _, at := range []time.Time{disbursedAt, disbursedAt.Add(72 * time.Hour)} {
		e.clock.Set(at)
		e.timers() // the timer, the lender worker: the lender accepts to pay, and no one pays
		rs := e.lenderRequests(escrow.LenderDisbursement)
		if len(rs) != 1 || rs[0].Status != escrow.LenderAwaitingFunds || rs[0].Sandbox || rs[0].FundsID != "" || rs[0].Attempts != 1 ||
			len(rs[0].Answer) == 0 || rs[0].RecordedAt != nil || rs[0].PaymentReference != o.Payments[0].Reference ||
			rs[0].Amount != dollars(10_000_00) {
			e.t.Fatalf("at %s, disbursement requests %+v", at, rs)
		}
		got, ord := e.loan(l.ID), e.reload(o)
		if got.State != credit.Agreed || got.Disbursement == nil || got.Disbursement.Status != escrow.LenderAwaitingFunds ||
			ord.State != trade.Confirmed || ord.Money.Paid != 0 || ord.Payments[0].Status != trade.PaymentPending ||
			e.events(l.ID, "loan.disbursed") != 0 || e.events(l.ID, "loan.disbursement_accepted") != 1 {
			e.t.Fatalf("at %s, before the lender's money: loan %s, order %s paid %d", at, got.State, ord.State, ord.Money.Paid)
		}
		esc := ledger.Account{Kind: ledger.Escrow, Owner: o.ID, Currency: "USD"}
		if e.balance(esc) != 0 || e.balance(lenderClearing) != 0 || e.balance(sandboxClearing) != 0 || e.balance(receivable(l.ID)) != 0 {
			e.t.Fatalf("money moved before the lender paid: escrow %d, lender %d, sandbox %d", e.balance(esc),
				e.balance(lenderClearing), e.balance(sandboxClearing))
		}
		if _, err := e.svc.CancelLoan(e.ctx, e.buyer, e.key(), l.ID); fault.ReasonOf(err) != "disbursement_pending" {
			e.t.Fatalf("cancel while the lender is to pay: %v", err)
		}
	}
	return e.reload(o), e.loan(l.ID), e.lenderRequests(escrow.LenderDisbursement)[0]
}

// TestPayLaterLenderMoneyPaysTheOrder ensures that without the sandbox the built-in lender pays
// nothing and no worker invents its payment: the order stays unpaid through the timer and the
// lender rounds; money of another amount reported on the pay_later rail is held in suspense; the
// principal quoting the payment's reference pays the order through the rail's matching and
// disburses the loan at that moment (its debit timers set then), recorded on the request with
// the credit's ID; the same credit reported again is booked once, and another credit for the
// paid loan goes to suspense. R8, R11
func TestPayLaterLenderMoneyPaysTheOrder(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		o, l, r := e.awaitingFunds()
		wrong := e.lenderPays("LND-0001", 9_999_00, r.PaymentReference)
		if wrong.SuspenseID == "" || wrong.Reason != "amount_mismatch" || e.reload(o).Money.Paid != 0 || e.loan(l.ID).State != credit.Agreed {
			t.Fatalf("a wrong amount: %+v", wrong)
		}
		paidAt := e.clock.Now()
		a := e.lenderPays("LND-0002", 10_000_00, r.PaymentReference)
		if a.OrderID != o.ID || a.PaymentID != o.Payments[0].ID || a.SuspenseID != "" {
			t.Fatalf("the lender's money: %+v", a)
		}
		if again := e.lenderPays("LND-0002", 10_000_00, r.PaymentReference); again != a {
			t.Fatalf("the same credit again: %+v, first %+v", again, a)
		}
		o, got := e.reload(o), e.loan(l.ID)
		if o.State != trade.InProduction || o.Money.Paid != 10_000_00 || o.Payments[0].Status != trade.PaymentReceived || o.Payments[0].Sandbox {
			t.Fatalf("the order after the lender's money: %s paid %d, %+v", o.State, o.Money.Paid, o.Payments[0])
		}
		if got.State != credit.Disbursed || !got.DisbursedAt.Equal(paidAt) || got.DisbursementRef != "LND-0002" || got.Sandbox ||
			e.events(l.ID, "loan.disbursed") != 1 || e.line().Used != dollars(10_000_00) || e.line().Reserved.IsPositive() {
			t.Fatalf("the loan: %s at %s ref %q sandbox %v", got.State, got.DisbursedAt, got.DisbursementRef, got.Sandbox)
		}
		req := e.lenderRequests(escrow.LenderDisbursement)[0]
		if req.Status != escrow.LenderRecorded || req.FundsID != "LND-0002" || req.RecordedAt == nil || !req.RecordedAt.Equal(paidAt) ||
			got.Disbursement == nil || got.Disbursement.ID != r.ID {
			t.Fatalf("the request: %+v", req)
		}
		if pl := e.eventPayloads(o, "payment.received"); len(pl) != 1 || pl[0]["sandbox"] != nil {
			t.Fatalf("payment.received %v", pl)
		}
		debits := 0
		for _, tm := range must(e.svc.Timers(e.ctx, l.ID)) {
			if tm.Kind == trade.TimerKind(credit.TimerDebit) && tm.State == escrow.TimerPending {
				debits++
				if tm.Key == "debit/1" && !tm.DueAt.Equal(got.Installments[0].DueDate) {
					t.Errorf("first debit at %s, want %s", tm.DueAt, got.Installments[0].DueDate)
				}
			}
		}
		if debits != 6 {
			t.Fatalf("%d debit timers, want 6", debits)
		}
		esc := ledger.Account{Kind: ledger.Escrow, Owner: o.ID, Currency: "USD"}
		held := trade.SuspenseAccount(payment.PayLater, "USD")
		if e.balance(esc) != 10_000_00 || e.balance(lenderClearing) != 10_000_00+9_999_00 || e.balance(held) != 9_999_00 ||
			e.balance(sandboxClearing) != 0 {
			t.Fatalf("escrow %d, lender clearing %d, suspense %d, sandbox %d", e.balance(esc), e.balance(lenderClearing),
				e.balance(held), e.balance(sandboxClearing))
		}
		if late := e.lenderPays("LND-0003", 10_000_00, r.PaymentReference); late.SuspenseID == "" || late.Reason != "payment_not_pending" {
			t.Fatalf("a second payment of the loan: %+v", late)
		}
		if n := e.timers(); n != 0 || e.events(l.ID, "loan.disbursed") != 1 {
			t.Fatalf("%d timers fired after the money, %d disbursed events", n, e.events(l.ID, "loan.disbursed"))
		}
		e.checkLoanBook(got)
	})
}

// TestPayLaterLenderMoneyFromSuspense ensures the lender's money held in suspense (a reference
// its bank garbled) disburses the loan once an admin allocates it to the payment; money of
// another amount cannot be allocated to it, and lender money quoting a payment that Pay Later
// does not finance is held in suspense. R8, R11
func TestPayLaterLenderMoneyFromSuspense(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		o, l, r := e.awaitingFunds()
		garbled := e.lenderPays("LND-0009", 10_000_00, r.PaymentReference+" LOAN "+l.ID)
		short := e.lenderPays("LND-0008", 5_000_00, "PAY LATER")
		if garbled.Reason != "no_matching_payment" || short.Reason != "no_matching_payment" {
			t.Fatalf("held: %+v, %+v", garbled, short)
		}
		if _, err := e.svc.AllocateSuspense(e.ctx, e.admin, e.key(), short.SuspenseID, o.ID, o.Payments[0].ID); fault.ReasonOf(err) != "amount_mismatch" {
			t.Fatalf("allocating US$5,000 to the loan: %v", err)
		}
		if e.loan(l.ID).State != credit.Agreed || e.reload(o).Money.Paid != 0 {
			t.Fatal("a refused allocation moved something")
		}
		a := must(e.svc.AllocateSuspense(e.ctx, e.admin, e.key(), garbled.SuspenseID, o.ID, o.Payments[0].ID))
		got := e.loan(l.ID)
		if a.OrderID != o.ID || got.State != credit.Disbursed || got.DisbursementRef != garbled.SuspenseID ||
			e.reload(o).State != trade.InProduction || e.lenderRequests(escrow.LenderDisbursement)[0].FundsID != garbled.SuspenseID {
			t.Fatalf("allocated %+v: loan %s ref %q", a, got.State, got.DisbursementRef)
		}

		// Lender money quoting the reference of a payment by wire is not the lender's to pay.
		wire := e.do(e.buyer, e.confirmed(5_00), trade.Pay{Installment: trade.Initial, Method: payment.TTWire})
		p := pending(t, wire)
		if x := e.lenderPays("LND-0010", p.Total, p.Reference); x.SuspenseID == "" || x.Reason != escrow.ReasonNotFinanced {
			t.Fatalf("lender money for a wire payment: %+v", x)
		}
		if e.reload(wire).Money.Paid != 0 {
			t.Fatal("lender money paid a wire payment")
		}
		e.checkLoanBook(got)
	})
}

// TestPayLaterLenderPaysEarly ensures money the lender sends before it is asked (the agreement
// accepted, the disbursement timer not yet due) disburses the loan; the timer then finds
// nothing to ask and is skipped, and an agreement not accepted takes no lender money. R11, R21
func TestPayLaterLenderPaysEarly(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		e.noSandbox()
		e.clock.Set(agreedAt)
		e.approve(500_000_00)
		o := must(e.financed(e.buyer, "USD", 10_00))
		ref := o.Payments[0].Reference
		l := must(e.svc.OfferLoan(e.ctx, e.buyer, e.key(), o.ID, 6))
		if x := e.lenderPays("LND-0100", 10_000_00, ref); x.Reason != escrow.ReasonLoanNotAccepted {
			t.Fatalf("money for an offer not accepted: %+v", x)
		}
		l = must(e.svc.AcceptLoan(e.ctx, e.buyer, e.key(), l.ID))
		if a := e.lenderPays("LND-0101", 10_000_00, ref); a.OrderID != o.ID {
			t.Fatalf("early money: %+v", a)
		}
		e.clock.Set(disbursedAt)
		e.timers()
		for _, tm := range must(e.svc.Timers(e.ctx, l.ID)) {
			if tm.Kind == trade.TimerKind(credit.TimerDisburse) && (tm.State != escrow.TimerFired || !strings.HasPrefix(tm.Outcome, "skipped: ")) {
				t.Fatalf("the disbursement timer after the money: %+v", tm)
			}
		}
		if rs := e.lenderRequests(escrow.LenderDisbursement); len(rs) != 0 || e.loan(l.ID).State != credit.Disbursed {
			t.Fatalf("requests %+v, loan %s", rs, e.loan(l.ID).State)
		}
		e.checkLoanBook(e.loan(l.ID))
	})
}

// TestPayLaterLenderMoneyRace ensures two credits of the lender's money for the same loan,
// reported at once under different IDs, pay the order once: one is matched, the other held in
// suspense, and the loan is disbursed once. R8, R11
func TestPayLaterLenderMoneyRace(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		o, l, r := e.awaitingFunds()
		var wg sync.WaitGroup
		got := make([]escrow.Allocation, 2)
		start := make(chan struct{})
		for i := range got {
			wg.Go(func() {
				<-start
				a, err := e.svc.ReceiveFunds(e.ctx, []string{"LND-A", "LND-B"}[i], escrow.Incoming{Method: payment.PayLater,
					Amount: dollars(10_000_00), Reference: r.PaymentReference})
				if err != nil {
					t.Errorf("credit %d: %v", i, err)
				}
				got[i] = a
			})
		}
		close(start)
		wg.Wait()
		matched, held := 0, 0
		for _, a := range got {
			if a.OrderID == o.ID {
				matched++
			}
			if a.SuspenseID != "" && a.Reason == "payment_not_pending" {
				held++
			}
		}
		if matched != 1 || held != 1 || e.events(l.ID, "loan.disbursed") != 1 || e.reload(o).Money.Paid != 10_000_00 {
			t.Fatalf("allocations %+v, %d disbursed events", got, e.events(l.ID, "loan.disbursed"))
		}
		e.checkLoanBook(e.loan(l.ID))
	})
}

// TestPayLaterSandboxDisbursementSaysSo ensures that with the sandbox on the lender's money is
// the sandbox's, and says so everywhere: the Pay Later payment is labelled sandbox from its
// instructions on, the disbursement request too; once the lender accepted, the sandbox pays
// through the same matching from its own clearing account, and payment.received, loan.disbursed
// and the loan say sandbox; the lender's clearing account holds no simulated money. Real money
// quoting the payment afterwards is held in suspense. R11
func TestPayLaterSandboxDisbursementSaysSo(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		e.clock.Set(agreedAt)
		e.approve(500_000_00)
		o := must(e.financed(e.buyer, "USD", 10_00))
		if p := o.Payments[0]; !p.Sandbox || p.PayTo != nil {
			t.Fatalf("Pay Later instructions on a sandbox server: %+v", p)
		}
		l := must(e.svc.OfferLoan(e.ctx, e.buyer, e.key(), o.ID, 6))
		l = must(e.svc.AcceptLoan(e.ctx, e.buyer, e.key(), l.ID))
		e.clock.Set(disbursedAt)
		must(e.svc.RunTimers(e.ctx, "w1"))
		r := e.lenderRequests(escrow.LenderDisbursement)[0]
		if r.Status != escrow.LenderRequested || !r.Sandbox || e.reload(o).Money.Paid != 0 {
			t.Fatalf("the request %+v", r)
		}
		e.lenderDecides()
		o, l = e.reload(o), e.loan(l.ID)
		if pl := e.eventPayloads(o, "payment.received"); len(pl) != 1 || pl[0]["sandbox"] != true {
			t.Fatalf("payment.received %v", pl)
		}
		if pl := e.streamPayloads(l.ID, "loan.disbursed"); len(pl) != 1 || pl[0]["sandbox"] != true {
			t.Fatalf("loan.disbursed %v", pl)
		}
		if !l.Sandbox || l.State != credit.Disbursed || l.DisbursementRef != "sandbox:"+r.ID || !o.Payments[0].Sandbox ||
			e.events(l.ID, "loan.disbursement_accepted") != 0 {
			t.Fatalf("loan %s sandbox %v ref %q", l.State, l.Sandbox, l.DisbursementRef)
		}
		if x := e.lenderPays("LND-0200", 10_000_00, r.PaymentReference); x.Reason != "payment_not_pending" {
			t.Fatalf("real money after the sandbox paid: %+v", x)
		}
		if e.balance(sandboxClearing) != 10_000_00 || e.balance(lenderClearing) != 10_000_00 ||
			e.balance(trade.SuspenseAccount(payment.PayLater, "USD")) != 10_000_00 {
			t.Fatalf("sandbox %d, lender %d (all of it held in suspense)", e.balance(sandboxClearing), e.balance(lenderClearing))
		}
		e.checkLoanBook(l)
	})
}

// TestPayLaterLenderAttentionPublished ensures a lender request marked for an operator publishes
// credit.lender_request_attention in the same transaction, once: a decision the lender never
// answered (on the buyer's stream) and a disbursement whose answer cannot be recorded (on the
// loan's), so that the platform's admins are told. R11
func TestPayLaterLenderAttentionPublished(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		lr := e.withLender()
		lr.down = escrow.LenderAttemptsMax
		must(e.svc.ApplyForCredit(e.ctx, e.buyer, e.key(), e.application("US", dollars(500_000_00), 3)))
		for range escrow.LenderAttemptsMax + 1 {
			e.lenderDecides()
			e.clock.Advance(escrow.BankDebitBackoffMax)
		}
		dr := e.lenderRequests(escrow.LenderDecision)[0]
		pl := e.streamPayloads(e.buyer.OrgID, "credit.lender_request_attention")
		if dr.Status != escrow.LenderAttention || len(pl) != 1 || pl[0]["request_id"] != dr.ID || pl[0]["kind"] != "decision" ||
			pl[0]["application_id"] != dr.ApplicationID || !strings.Contains(pl[0]["reason"].(string), "503") {
			t.Fatalf("request %s, attention events %v", dr.Status, pl)
		}
		must(e.svc.RetryLenderRequest(e.ctx, e.admin, e.key(), dr.ID))
		e.lenderDecides()
		if len(e.streamPayloads(e.buyer.OrgID, "credit.lender_request_attention")) != 1 {
			t.Fatal("a recorded decision published attention")
		}

		o := must(e.financed(e.buyer, "USD", 10_00))
		l := must(e.svc.OfferLoan(e.ctx, e.buyer, e.key(), o.ID, 6))
		l = must(e.svc.AcceptLoan(e.ctx, e.buyer, e.key(), l.ID))
		e.clock.Set(l.Agreement.DisbursementDue)
		must(e.svc.RunTimers(e.ctx, "w1"))
		lr.tamper = func(d *credit.Disbursement) { d.Amount = dollars(9_999_00) }
		e.lenderDecides()
		r := e.lenderRequests(escrow.LenderDisbursement)[0]
		pl = e.streamPayloads(l.ID, "credit.lender_request_attention")
		if r.Status != escrow.LenderAttention || len(pl) != 1 || pl[0]["request_id"] != r.ID || pl[0]["loan_id"] != l.ID ||
			!strings.Contains(pl[0]["reason"].(string), "9999.00") {
			t.Fatalf("request %s, attention events %v", r.Status, pl)
		}
	})
}

// TestPayLaterLapsedPaymentCancelsLoan ensures a loan whose lender never pays does not hold the
// buyer's credit for ever: when the Pay Later payment expires unpaid, the loan is cancelled in
// the same transaction and its reservation given back, and the disbursement request awaiting
// the lender's money is marked for an operator (who tells the lender not to pay), publishing
// credit.lender_request_attention; money the lender sends later is held in suspense. R11, R21
func TestPayLaterLapsedPaymentCancelsLoan(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		o, l, r := e.awaitingFunds()
		e.clock.Set(o.Payments[0].ExpiresAt)
		e.timers()
		o, got := e.reload(o), e.loan(l.ID)
		if o.Payments[0].Status != trade.PaymentExpired || got.State != credit.LoanCancelled || e.line().Reserved.IsPositive() ||
			e.line().Available() != e.line().Limit {
			t.Fatalf("after the payment expired: payment %s, loan %s, line %+v", o.Payments[0].Status, got.State, e.line())
		}
		req := e.lenderRequests(escrow.LenderDisbursement)[0]
		if req.ID != r.ID || req.Status != escrow.LenderAttention || !strings.Contains(req.LastError, "tell the lender not to pay") ||
			len(e.streamPayloads(l.ID, "credit.lender_request_attention")) != 1 {
			t.Fatalf("the request after the loan lapsed: %+v", req)
		}
		if x := e.lenderPays("LND-0300", 10_000_00, r.PaymentReference); x.SuspenseID == "" || x.Reason != "payment_not_pending" {
			t.Fatalf("the lender's money after the loan lapsed: %+v", x)
		}
		if e.timers(); len(e.streamPayloads(l.ID, "credit.lender_request_attention")) != 1 {
			t.Fatal("attention published again")
		}
		e.checkLoanBook(got)
	})
}
