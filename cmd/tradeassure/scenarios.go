package main

import (
	"fmt"
	"time"

	"github.com/tradeassure/tradeassure/credit"
	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/payment"
	"github.com/tradeassure/tradeassure/trade"
)

type scenario struct {
	name string
	want trade.State
	run  func(*demo) (*trade.Order, error)
}

var scenarios = []scenario{
	{"happy path: contract → pay → inspect → ship → release (R12)", trade.Completed, happyPath},
	{"late shipment: refund in full (R13)", trade.Refunded, lateRefund},
	{"failed inspection → dispute → supplier partial refund (R16, R17)", trade.Completed, partialRefund},
	{"dispute escalated → arbiter refund (R17, R18)", trade.Refunded, arbiterRefund},
	{"deposit released for production, then refunded from the guarantee fund (R14)", trade.Refunded, depositGuarantee},
	{"release, then automatic payouts: the supplier's debt netted first, the rest requested, then sent (R12, R14)", trade.Completed, payoutNetting},
	{"a payout the bank returns: owed again, the account flagged, cleared, then sent (R12)", trade.Completed, payoutReturned},
	{"R19(a) refused: no clear specification for what is disputed", trade.InspectionPassed, refusalUnclear},
	{"R19(b) refused: no inspection booked when the order was placed", trade.InspectionPassed, refusalNoInspection},
	{"R19(c) refused: issue found only after arrival", trade.Released, refusalAfterArrival},
	{"unmatched money held in suspense, then allocated (R8)", trade.InProduction, suspenseAllocated},
	{"Pay Later: deposit financed, lender pays in 2 business days, repaid early (R11)", trade.Completed, payLater},
}

func happyPath(d *demo) (*trade.Order, error) {
	o, err := d.confirmed(d.supplier, true)
	if err != nil {
		return o, err
	}
	if o, err = d.paid(o); err != nil {
		return o, err
	}
	if o, err = d.wait(o, 40*24*time.Hour); err != nil {
		return o, err
	}
	if o, err = d.report(o, true); err != nil {
		return o, err
	}
	if o, err = d.shipAndRelease(d.supplier, o); err != nil {
		return o, err
	}
	return d.do(d.buyer, o, trade.Complete{})
}

func lateRefund(d *demo) (*trade.Order, error) {
	o, err := d.confirmed(d.supplier, true)
	if err != nil {
		return o, err
	}
	if o, err = d.paid(o); err != nil {
		return o, err
	}
	if o, err = d.wait(o, 61*24*time.Hour); err != nil { // the shipping date passes
		return o, err
	}
	if o.State != trade.Late {
		return o, fmt.Errorf("after the deadline the order is %s, want late", o.State)
	}
	return d.do(d.buyer, o, trade.Refund{})
}

func partialRefund(d *demo) (*trade.Order, error) {
	o, err := d.failedDispute(true, "Fabric weight")
	if err != nil {
		return o, err
	}
	if o, err = d.do(d.supplier, o, trade.ProposeResolution{Kind: trade.PartialRefund, Amount: 800_00,
		Note: "We offer a US$800 price reduction; the fabric is otherwise within spec."}); err != nil {
		return o, err
	}
	x := o.OpenDispute()
	if o, err = d.do(d.buyer, o, trade.AcceptResolution{ProposalID: x.Proposals[len(x.Proposals)-1].ID}); err != nil {
		return o, err
	}
	if o, err = d.shipAndRelease(d.supplier, o); err != nil {
		return o, err
	}
	return d.wait(o, 31*24*time.Hour) // the claim window ends: completed by the system
}

func arbiterRefund(d *demo) (*trade.Order, error) {
	o, err := d.failedDispute(true, "Fabric weight")
	if err != nil {
		return o, err
	}
	if o, err = d.wait(o, 16*24*time.Hour); err != nil { // the supplier's 15 days pass
		return o, err
	}
	if o.State != trade.Escalated {
		return o, fmt.Errorf("after the window the dispute is %s, want escalated", o.State)
	}
	return d.do(d.arbiter, o, trade.Decide{Outcome: trade.OutcomeFullRefund,
		Reasons: "The report measures 168 g/m² against 200 g/m² ± 5% in contract v1: the supplier failed to comply."})
}

func depositGuarantee(d *demo) (*trade.Order, error) {
	o, err := d.confirmed(d.deposit, true)
	if err != nil {
		return o, err
	}
	if o, err = d.paid(o); err != nil {
		return o, err
	}
	if o.Money.ReleasedEarly == 0 {
		return o, fmt.Errorf("the deposit was not released for production")
	}
	if o, err = d.wait(o, 61*24*time.Hour); err != nil {
		return o, err
	}
	return d.do(d.buyer, o, trade.Refund{})
}

func refuse(d *demo, o *trade.Order, ground trade.Refusal, why string) (*trade.Order, error) {
	o, err := d.do(d.buyer, o, trade.Escalate{Note: "The supplier refuses any settlement."})
	if err != nil {
		return o, err
	}
	x := o.OpenDispute()
	grounds := o.Grounds(x)
	found := false
	for _, g := range grounds {
		found = found || g == ground
	}
	if !found {
		return o, fmt.Errorf("grounds %v do not include %s", grounds, ground)
	}
	return d.do(d.arbiter, o, trade.Decide{Outcome: trade.OutcomeNoRefund, Refusals: []trade.Refusal{ground}, Reasons: why})
}

func refusalUnclear(d *demo) (*trade.Order, error) {
	o, err := d.failedDispute(true, "Stitching quality")
	if err != nil {
		return o, err
	}
	return refuse(d, o, trade.RefusalUnclearSpec, "The contract sets no requirement for stitching; the report passes every specified item.")
}

func refusalNoInspection(d *demo) (*trade.Order, error) {
	o, err := d.failedDispute(false, "Fabric weight")
	if err != nil {
		return o, err
	}
	return refuse(d, o, trade.RefusalNoInspection, "The inspection was booked during production, not when the order was placed.")
}

func refusalAfterArrival(d *demo) (*trade.Order, error) {
	o, err := d.confirmed(d.supplier, true)
	if err != nil {
		return o, err
	}
	if o, err = d.paid(o); err != nil {
		return o, err
	}
	if o, err = d.report(o, true); err != nil {
		return o, err
	}
	if o, err = d.shipAndRelease(d.supplier, o); err != nil {
		return o, err
	}
	if o, err = d.wait(o, 20*24*time.Hour); err != nil {
		return o, err
	}
	if o, err = d.do(d.buyer, o, trade.FileDispute{Reason: "Colour differs from the sample after washing", Requirements: []string{"Fabric color"}, FoundAfterArrival: true}); err != nil {
		return o, err
	}
	return refuse(d, o, trade.RefusalAfterArrival, "The issue was found after the goods arrived in the buyer's country; the pre-shipment report passed.")
}

func suspenseAllocated(d *demo) (*trade.Order, error) {
	o, err := d.confirmed(d.supplier, true)
	if err != nil {
		return o, err
	}
	if o, err = d.do(d.buyer, o, trade.Pay{Installment: trade.Initial, Method: payment.TTWire}); err != nil {
		return o, err
	}
	p := o.Payments[len(o.Payments)-1]
	// The buyer's bank drops the reference: the wire cannot be matched and waits in suspense.
	alloc, err := d.svc.ReceiveFunds(d.ctx, d.key(), escrow.Incoming{Method: payment.TTWire,
		Amount: money.New(p.Total, o.Currency), Reference: "INV 2291 MAPLE KIDS", Payer: "MAPLE KIDS APPAREL INC"})
	if err != nil {
		return o, err
	}
	if alloc.SuspenseID == "" {
		return o, fmt.Errorf("unmatched money was allocated to %s", alloc.OrderID)
	}
	if _, err := d.svc.AllocateSuspense(d.ctx, d.admin, d.key(), alloc.SuspenseID, o.ID, p.ID); err != nil {
		return o, err
	}
	return d.wait(o, 3*time.Hour) // the sandbox's own delivery now finds the payment received
}

// payLater finances the deposit with Pay Later (R11): the buyer (a US business) has a line of
// credit, pays the initial payment with pay_later, accepts a three-month agreement, and the
// order is paid when the lender's money arrives 2 US business days later — the demo is a sandbox,
// so once the built-in lender accepts to pay, the sandbox pays for it (simulated money, labelled
// sandbox). The first installment is debited on its due date, with the first-month fee credit;
// the buyer pays the rest off early once the goods ship.
func payLater(d *demo) (*trade.Order, error) {
	if _, err := d.svc.CreditLine(d.ctx, d.buyer, ""); fault.ReasonOf(err) == "credit_line_not_found" {
		revenue := money.New(1_200_000_00, credit.USD)
		now := d.clock.Now()
		res, err := d.svc.ApplyForCredit(d.ctx, d.buyer, d.key(), credit.Application{Channel: credit.InAdvance,
			Business: credit.Business{LegalName: "Maple Kids Apparel Inc.", EINLast4: "6789", Country: "US", State: "OR",
				Established: now.AddDate(-6, 0, 0), Revenue: &revenue},
			Owner:    credit.Owner{Name: "Dana Maple", Title: "Owner", BirthYear: 1979, SSNLast4: "4321"},
			Accounts: []credit.LinkedAccount{{Kind: credit.BusinessChecking, Institution: "Umpqua Bank", Mask: "0457"}},
			Consent:  credit.Consent{Given: true, At: now, TextVersion: "pay-later-2025-01"}})
		if err != nil {
			return nil, err
		}
		// The lender worker asks the lender outside the request and records its decision.
		if _, err := d.svc.RunLenderRequests(d.ctx, "demo"); err != nil {
			return nil, err
		}
		app, err := d.svc.CreditApplication(d.ctx, d.admin, res.Application.ID)
		if err != nil {
			return nil, err
		}
		line, err := d.svc.CreditLine(d.ctx, d.buyer, "")
		if err != nil {
			return nil, fmt.Errorf("the application was %s: %w", app.Status, err)
		}
		fmt.Fprintf(d.out, "  credit line %s: limit %s (application %s, decided by the lender worker)\n", line.ID, line.Limit, app.Status)
	} else if err != nil {
		return nil, err
	}
	o, err := d.confirmed(d.supplier, true)
	if err != nil {
		return o, err
	}
	if o, err = d.do(d.buyer, o, trade.Pay{Installment: trade.Initial, Method: payment.PayLater}); err != nil {
		return o, err
	}
	l, err := d.svc.OfferLoan(d.ctx, d.buyer, d.key(), o.ID, 3)
	if err != nil {
		return o, err
	}
	if l, err = d.svc.AcceptLoan(d.ctx, d.buyer, d.key(), l.ID); err != nil {
		return o, err
	}
	a := l.Agreement
	fmt.Fprintf(d.out, "  loan %s: %s over %d months, fees %s less the first-month credit %s, total %s, APR %s; the lender pays %s\n",
		l.ID, a.Principal, a.TermMonths, a.TotalFees, a.CreditApplied, a.TotalCost, a.APR, a.DisbursementDue.Format("Mon 2006-01-02"))
	for _, in := range a.Installments {
		fmt.Fprintf(d.out, "    #%d %s  principal %s  fee %s  credit %s  debit %s\n", in.N, in.DueDate.Format(time.DateOnly),
			in.Principal.Decimal(), in.Fee.Decimal(), in.Credit.Neg().Decimal(), in.Total.Decimal())
	}
	if o, err = d.wait(o, a.DisbursementDue.Sub(d.clock.Now())); err != nil {
		return o, err
	}
	if o.State != trade.InProduction {
		return o, fmt.Errorf("after the disbursement the order is %s, want in_production", o.State)
	}
	if l, err = d.svc.Loan(d.ctx, d.buyer, l.ID); err != nil {
		return o, err
	}
	if l.State != credit.Disbursed || !l.Sandbox {
		return o, fmt.Errorf("after the disbursement the loan is %s (sandbox %v), want disbursed by the sandbox", l.State, l.Sandbox)
	}
	fmt.Fprintf(d.out, "  disbursed %s: the lender accepted to pay, and the sandbox paid %s for it (simulated money, %s)\n",
		l.DisbursedAt.Format("Mon 2006-01-02"), a.Principal, l.DisbursementRef)
	if o, err = d.wait(o, 40*24*time.Hour); err != nil { // production; the first installment is debited
		return o, err
	}
	if o, err = d.report(o, true); err != nil {
		return o, err
	}
	if o, err = d.shipAndRelease(d.supplier, o); err != nil {
		return o, err
	}
	if o, err = d.do(d.buyer, o, trade.Complete{}); err != nil {
		return o, err
	}
	if l, err = d.svc.Loan(d.ctx, d.buyer, l.ID); err != nil {
		return o, err
	}
	quote := l.Quote(d.clock.Now())
	if l, err = d.svc.PayOffLoan(d.ctx, d.buyer, d.key(), l.ID); err != nil {
		return o, err
	}
	if l.BankDebit == nil || l.BankDebit.Status != escrow.DebitRequested {
		return o, fmt.Errorf("the payoff was not requested from the bank: %+v", l.BankDebit)
	}
	if o, err = d.wait(o, time.Minute); err != nil { // the bank worker asks the bank and records its answer
		return o, err
	}
	if l, err = d.svc.Loan(d.ctx, d.buyer, l.ID); err != nil {
		return o, err
	}
	if l.State != credit.PaidOff {
		return o, fmt.Errorf("the loan is %s after payoff", l.State)
	}
	fmt.Fprintf(d.out, "  loan %s: first installment debited %s, paid off early for %s\n", l.ID,
		l.Installments[0].DueDate.Format(time.DateOnly), quote)
	// The months that ended meanwhile were closed at 00:00 UTC on the 1st and stored.
	sts, err := d.svc.CreditStatements(d.ctx, d.buyer, "")
	if err != nil {
		return o, err
	}
	for i := len(sts) - 1; i >= 0; i-- {
		st := sts[i]
		fmt.Fprintf(d.out, "  statement %s: opening %s, draws %s, fees %s, credits %s, payments %s, closing %s\n", st.Period,
			st.Opening.Decimal(), st.Draws.Decimal(), st.Fees.Decimal(), st.Credits.Decimal(), st.Payments.Decimal(), st.Closing.Decimal())
	}
	return o, nil
}
