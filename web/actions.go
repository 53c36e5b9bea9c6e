package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/payment"
	"github.com/tradeassure/tradeassure/trade"
)

// action is one form on the order page: a lifecycle command the viewer may issue now. The
// page offers only what the lifecycle table allows the viewer's role in the order's state
// (trade.Lookup and Allows); the domain still decides when the form is submitted.
type action struct {
	Key     string // the path segment it posts to, and the template block that draws it
	OrderID string
	Title   string
	Form    *form
	Version int64

	// What some forms need.
	Hash         string              // confirm: the proposal the viewer saw
	Installment  trade.Installment   // pay
	Due          int64               // pay: the installment's amount
	Currency     money.Currency      // pay, resolution, decide: amounts are in the order currency
	Quotes       []quoteRow          // pay: every method with its fee and total (R10)
	Inspectors   []trade.Org         // book-inspection
	Requirements []trade.Requirement // report, file-dispute
	Proposal     *trade.Resolution   // accept-/reject-resolution
	Dispute      *trade.Dispute      // decide: the dispute being decided
	PayLater     *payLaterBox        // pay-later: the installment being financed (R11, credit.go)
}

// fill gives a refused action the page data its form needs, from the freshly built one.
func (a *action) fill(fresh *action) {
	form, key := a.Form, a.Key
	*a = *fresh
	a.Form, a.Key = form, key
	a.Form.Scope = fresh.Form.Scope
}

// scoped are the forms whose note field shares its name with another form on the same page
// (a party may settle, reject an offer and escalate at once): their IDs carry the form's key.
var scoped = map[string]bool{"accept-goods": true, "reject-resolution": true, "escalate": true}

// quoteRow is one payment method with what paying by it costs (R10), or why it is unavailable.
type quoteRow struct {
	Method    payment.Method
	Name      string
	Arrival   string
	Fee       int64
	Total     int64
	Estimate  string // a fee charged by others, shown as a range
	Collected bool   // the platform collects the fee
	Available bool
	Why       string
	Apply     string // Pay Later without a line: where to apply (R11)
}

// allowed reports whether the lifecycle table lets role issue ev in the order's state.
func allowed(o *trade.Order, role trade.Role, ev trade.Event) bool {
	t, ok := trade.Lookup(o.State, ev)
	return ok && t.Allows(role)
}

// actions lists the forms the viewer gets on the order page now, in the order they appear.
func (s *Server) actions(ctx context.Context, o *trade.Order, a trade.Actor) ([]*action, error) {
	var out []*action
	add := func(key, title string) *action {
		x := &action{Key: key, OrderID: o.ID, Title: title, Form: newForm(nil), Version: o.Version, Currency: o.Currency}
		if scoped[key] {
			x.Form.Scope = key
		}
		out = append(out, x)
		return x
	}
	r := a.Role
	if p := o.Proposal; p != nil && p.ProposedBy != a.OrgID {
		if allowed(o, r, trade.EvConfirmContract) {
			add("confirm-contract", "Confirm the contract").Hash = p.Hash
		} else if allowed(o, r, trade.EvConfirmAmendment) {
			add("confirm-amendment", "Confirm the amendment").Hash = p.Hash
		}
	}
	if allowed(o, r, trade.EvPay) {
		if inst, due := dueInstallment(o); due > 0 {
			x := add("pay", payTitle(inst))
			x.Installment, x.Due, x.Quotes = inst, due, s.quotes(o.Currency, due)
			if err := s.payLaterQuote(ctx, o, a, x.Quotes, due); err != nil {
				return nil, err
			}
		}
	}
	if x, err := s.payLaterAction(ctx, o, a); err != nil {
		return nil, err
	} else if x != nil {
		out = append(out, x)
	}
	if allowed(o, r, trade.EvBookInspection) && !inspectionPassed(o) {
		title := "Book a pre-shipment inspection"
		if o.Inspection != nil {
			title = "Change the inspection company"
		}
		insp, err := s.svc.Orgs(ctx, trade.KindInspector)
		if err != nil {
			return nil, err
		}
		x := add("book-inspection", title)
		x.Inspectors = insp
		if o.Inspection != nil {
			x.Form.Values.Set("inspector_id", o.Inspection.InspectorID)
		}
	}
	if allowed(o, r, trade.EvPassInspection) && o.Inspection != nil && o.Inspection.InspectorID == a.OrgID {
		x := add("report", "Submit the inspection report")
		if c := o.Contract(); c != nil {
			x.Requirements = c.Contract.Quality
		}
	}
	if allowed(o, r, trade.EvShip) && o.Outstanding() <= 0 && (o.Inspection == nil || inspectionPassed(o)) {
		x := add("ship", "Record the shipment")
		x.Form.Values.Set("shipped_on", trade.Day(s.svc.Now()).Format(time.DateOnly))
	}
	if allowed(o, r, trade.EvAcceptGoods) {
		add("accept-goods", "Accept the goods as they are")
	}
	if allowed(o, r, trade.EvFileDispute) {
		x := add("file-dispute", "File a dispute")
		if c := o.Contract(); c != nil {
			x.Requirements = c.Contract.Quality
		}
	}
	if x := o.OpenDispute(); x != nil {
		if allowed(o, r, trade.EvProposeResolution) && s.svc.Now().Before(x.WindowEndsAt) {
			add("propose-resolution", "Offer a settlement")
		}
		if p := openProposal(x); p != nil && allowed(o, r, trade.EvAcceptResolution) {
			add("accept-resolution", "Accept the supplier's offer").Proposal = p
			add("reject-resolution", "Reject the supplier's offer").Proposal = p
		}
		if allowed(o, r, trade.EvEscalate) && r != trade.RoleSystem {
			add("escalate", "Ask the platform to decide")
		}
	}
	if allowed(o, r, trade.EvDecide) {
		add("decide", "Decide the dispute").Dispute = o.OpenDispute()
	}
	if allowed(o, r, trade.EvRelease) {
		add("release", "Release the escrow to the supplier now")
	}
	if allowed(o, r, trade.EvComplete) {
		add("complete", "Confirm receipt and close the order")
	}
	if allowed(o, r, trade.EvRefund) {
		add("refund", "Take a full refund")
	}
	if allowed(o, r, trade.EvCancel) && o.Money.Paid == 0 {
		add("cancel", "Cancel the order")
	}
	return out, nil
}

func payTitle(inst trade.Installment) string {
	if inst == trade.Initial {
		return "Send the initial payment"
	}
	return "Pay the balance"
}

// dueInstallment is the installment the buyer can pay now and its amount, or 0 when nothing can
// be paid yet: the initial payment after confirmation, the balance once the inspection (if any)
// passed, and nothing while earlier payment instructions are out (R6).
func dueInstallment(o *trade.Order) (trade.Installment, int64) {
	for _, p := range o.Payments {
		if p.Status == trade.PaymentPending {
			return "", 0
		}
	}
	if o.State == trade.Confirmed {
		initial, err := o.Contract().Contract.Initial()
		if err != nil {
			return "", 0
		}
		return trade.Initial, initial
	}
	if o.Inspection != nil && !inspectionPassed(o) {
		return "", 0
	}
	return trade.Balance, o.Outstanding()
}

func inspectionPassed(o *trade.Order) bool {
	return o.State == trade.InspectionPassed || o.State == trade.BalancePaid
}

func openProposal(x *trade.Dispute) *trade.Resolution {
	for i := range x.Proposals {
		if x.Proposals[i].Status == "open" {
			return &x.Proposals[i]
		}
	}
	return nil
}

// quotes prices a payment of due by every method, as the buyer must see before paying (R10).
func (s *Server) quotes(c money.Currency, due int64) []quoteRow {
	now := s.svc.Now()
	var out []quoteRow
	for _, mi := range payment.Catalog() {
		row := quoteRow{Method: mi.Method, Name: mi.Name, Arrival: mi.Arrival}
		q, err := s.svc.Config().Fees.Quote(mi.Method, money.New(due, c), now)
		if err == nil && mi.Method != payment.PayLater { // R8: only where the platform has an account to receive it
			_, err = s.svc.CollectionAccount(mi.Method, c)
		}
		switch {
		case mi.Method == payment.PayLater && err == nil:
			// Offered only to a buyer whose line can finance it: payLaterQuote decides (R11).
			row.Fee, row.Total, row.Collected = q.Fee.Minor, q.Total.Minor, true
			row.Why = "Needs an approved Pay Later credit line."
		case err != nil:
			row.Why = sentence(errMessage(err))
		default:
			row.Available = true
			row.Fee, row.Total, row.Collected = q.Fee.Minor, q.Total.Minor, q.Collector == payment.CollectedByPlatform
			if q.EstimateMin != nil && q.EstimateMax != nil {
				row.Estimate = "about " + formatMoney(q.EstimateMin.Minor, c) + "–" + money.GroupThousands(q.EstimateMax.Decimal())
			}
		}
		out = append(out, row)
	}
	return out
}

func errMessage(err error) string {
	if e, ok := fault.As(err); ok {
		return e.Message
	}
	return "unavailable"
}

// orderAction runs one action form: build the command, issue it with the form's idempotency
// key and the order version the page showed, then redirect — or show the form again with the
// errors next to their fields.
func (s *Server) orderAction(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	key, id := r.PathValue("action"), r.PathValue("id")
	build, ok := commands[key]
	if !ok {
		s.fail(w, r, errNoOrder)
		return
	}
	o, err := s.svc.Order(ctx, a, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	up, err := s.readUpload(r, actionFiles[key]...) // only the report takes files (contract.go)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f := newForm(formValues(r.PostForm)) // a fresh key for the form if it is shown again
	f.Values.Del("idempotency_key")
	up.report(f)
	failed := &action{Key: key, Form: f}
	idem, ok := idempotencyKey(r, f)
	if !ok {
		s.showOrder(w, r, http.StatusUnprocessableEntity, failed)
		return
	}
	version, _ := strconv.ParseInt(r.PostForm.Get("version"), 10, 64)
	cmd := build.make(f, o)
	if sr, ok := cmd.(trade.SubmitReport); ok { // inspection photos (R16), uploaded with the form
		sr.Report.Photos = s.keptAttachments(ctx, f, o, "photos", trade.AttachmentsMax)
		cmd = sr
	}
	if f.Failed() {
		s.showOrder(w, r, http.StatusUnprocessableEntity, failed)
		return
	}
	if _, err := s.svc.DoIfVersion(ctx, a, idem, id, version, cmd); err != nil {
		if !f.setError(attachmentField(err)) {
			s.fail(w, r, err)
			return
		}
		s.showOrder(w, r, http.StatusUnprocessableEntity, failed)
		return
	}
	if key == "pay" && f.Value("method") == string(payment.PayLater) { // R11: the term and the agreement come next
		s.redirect(w, r, "/orders/"+id+"#action-pay-later", "Pay Later chosen. Choose how many months to repay over, then review the loan agreement.")
		return
	}
	s.redirect(w, r, "/orders/"+id, build.done)
}

// command turns one action form into a domain command; parse errors go into the form.
type command struct {
	make func(f *form, o *trade.Order) trade.Command
	done string // the flash after it applied
}

var commands = map[string]command{
	"confirm-contract": {func(f *form, _ *trade.Order) trade.Command {
		return trade.ConfirmContract{Hash: f.Value("hash")}
	}, "Contract confirmed. It is now frozen; the buyer pays the initial payment next."},
	"confirm-amendment": {func(f *form, _ *trade.Order) trade.Command {
		return trade.ConfirmAmendment{Hash: f.Value("hash")}
	}, "Amendment confirmed."},
	"pay": {func(f *form, _ *trade.Order) trade.Command {
		if f.Value("method") == "" {
			f.add("method", "Choose how you will pay.")
		}
		return trade.Pay{Installment: trade.Installment(f.Value("installment")), Method: payment.Method(f.Value("method"))}
	}, "Payment instructions issued. Send the amount shown, quoting the reference."},
	"book-inspection": {func(f *form, _ *trade.Order) trade.Command {
		if f.Value("inspector_id") == "" {
			f.add("inspector_id", "Choose an inspection company.")
		}
		return trade.BookInspection{InspectorID: f.Value("inspector_id")}
	}, "Inspection booked."},
	"report":             {makeReport, "Inspection report submitted."},
	"ship":               {makeShip, "Shipment recorded. The escrow is released to the supplier next."},
	"accept-goods":       {func(f *form, _ *trade.Order) trade.Command { return trade.AcceptGoods{Note: f.Value("note")} }, "Goods accepted."},
	"file-dispute":       {makeDispute, "Dispute filed. The supplier has time to settle it with you."},
	"propose-resolution": {makeResolution, "Settlement offered to the buyer."},
	"accept-resolution": {func(f *form, _ *trade.Order) trade.Command {
		return trade.AcceptResolution{ProposalID: f.Value("proposal_id")}
	}, "Settlement accepted."},
	"reject-resolution": {func(f *form, _ *trade.Order) trade.Command {
		return trade.RejectResolution{ProposalID: f.Value("proposal_id"), Note: f.Value("note")}
	}, "Settlement rejected."},
	"escalate": {func(f *form, _ *trade.Order) trade.Command { return trade.Escalate{Note: f.Value("note")} }, "The dispute goes to the platform's arbiter."},
	"decide":   {makeDecision, "Decision recorded."},
	"release":  {func(*form, *trade.Order) trade.Command { return trade.Release{} }, "Escrow released to the supplier."},
	"complete": {func(*form, *trade.Order) trade.Command { return trade.Complete{} }, "Order completed."},
	"refund":   {func(*form, *trade.Order) trade.Command { return trade.Refund{} }, "Order refunded."},
	"cancel":   {func(f *form, _ *trade.Order) trade.Command { return trade.Cancel{Reason: f.Value("reason")} }, "Order cancelled."},
}

func makeReport(f *form, o *trade.Order) trade.Command {
	rep := trade.Report{Summary: f.Value("summary")}
	switch f.Value("result") {
	case "pass":
		rep.Passed = true
	case "fail":
	default:
		f.add("result", "Say whether the batch passed.")
	}
	rep.SampleSize = intField(f, "sample_size", "Give the number of units inspected.")
	rep.Critical = intField(f, "critical", "Give a count of 0 or more.")
	rep.Major = intField(f, "major", "Give a count of 0 or more.")
	rep.Minor = intField(f, "minor", "Give a count of 0 or more.")
	for i := 0; i < trade.RequirementsMax; i++ {
		attr := f.Value(indexed("findings", i, "attribute"))
		if attr == "" {
			break
		}
		rep.Findings = append(rep.Findings, trade.Finding{Attribute: attr,
			Measured: f.Value(indexed("findings", i, "measured")), Pass: f.Value(indexed("findings", i, "pass")) == "yes"})
	}
	return trade.SubmitReport{Report: rep}
}

// intField reads a count that may be left empty (zero).
func intField(f *form, name, msg string) int {
	v := strings.TrimSpace(f.Value(name))
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > trade.QuantityMax {
		f.add(name, msg)
	}
	return n
}

func makeShip(f *form, _ *trade.Order) trade.Command {
	on, ok := dateField(f, "shipped_on", "Give the date the goods shipped.")
	if !ok {
		return nil
	}
	return trade.Ship{ShippedOn: on, Carrier: f.Value("carrier"), Tracking: f.Value("tracking_number"),
		BillOfLading: f.Value("bill_of_lading")}
}

// dateField reads a YYYY-MM-DD date input as a calendar date (midnight UTC).
func dateField(f *form, name, msg string) (time.Time, bool) {
	d, err := time.Parse(time.DateOnly, strings.TrimSpace(f.Value(name)))
	if err != nil {
		f.add(name, msg)
		return time.Time{}, false
	}
	return d, true
}

func makeDispute(f *form, _ *trade.Order) trade.Command {
	return trade.FileDispute{Reason: f.Value("reason"), Requirements: f.Values["requirements"],
		FoundAfterArrival: f.Value("found_after_arrival") == "yes"}
}

// amountField reads a decimal amount of the order currency ("1250.50").
func amountField(f *form, name string, c money.Currency, optional bool) int64 {
	v := strings.TrimSpace(f.Value(name))
	if v == "" && optional {
		return 0
	}
	a, err := money.Parse(v, c)
	if err != nil {
		f.add(name, "Give an amount in "+string(c)+", like 1250.00.")
		return 0
	}
	return a.Minor
}

func makeResolution(f *form, o *trade.Order) trade.Command {
	kind := trade.ResolutionKind(f.Value("kind"))
	var amount int64
	if kind == trade.PartialRefund {
		amount = amountField(f, "amount", o.Currency, false)
	}
	return trade.ProposeResolution{Kind: kind, Amount: amount, Note: f.Value("note")}
}

func makeDecision(f *form, o *trade.Order) trade.Command {
	out := trade.Outcome(f.Value("outcome"))
	if out == "" {
		f.add("outcome", "Choose the outcome.")
	}
	var amount int64
	if out == trade.OutcomePartialRefund {
		amount = amountField(f, "amount", o.Currency, false)
	}
	var refusals []trade.Refusal
	for _, x := range f.Values["refusals"] {
		refusals = append(refusals, trade.Refusal(x))
	}
	return trade.Decide{Outcome: out, Amount: amount, Reasons: f.Value("reasons"), Refusals: refusals,
		Override: f.Value("override")}
}

// formValues copies a request's form so a re-rendered form can show what was typed.
func formValues(v url.Values) url.Values {
	out := url.Values{}
	for k, xs := range v {
		out[k] = append([]string(nil), xs...)
	}
	return out
}
