package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/trade"
)

// The forms of the operations page. Each issues the command the API's operation issues, with
// the form's idempotency key: POST /v1/payouts/{id}/result (RecordPayoutResult),
// /v1/payouts/flags/{supplier_id}/clear (ClearPayoutFlag), /v1/credit/bank-debits/{id}/result
// (RecordBankDebitResult) and …/retry (RetryBankDebit), /v1/credit/lender-requests/{id}/retry
// (RetryLenderRequest). A refused form shows the page again with the error next to its field
// and everything typed; a recorded one returns to the page it was posted from.

// opsForm reads a posted form of the operations page: what was typed (without the key and the
// page's cursors), its idempotency key, and the cursors of the page it was posted from.
func opsForm(r *http.Request) (f *form, key string, ok bool, cur url.Values, err error) {
	if err := r.ParseForm(); err != nil {
		return nil, "", false, nil, err
	}
	f = newForm(formValues(r.PostForm))
	f.Values.Del("idempotency_key")
	f.Values.Del("page")
	key, ok = idempotencyKey(r, f)
	return f, key, ok, postedCursors(r), nil
}

// opsRefused shows the page again for a refused form; an error that is not the person's to fix
// (internal) or names nothing that exists (not found) is answered as such instead.
func (s *Server) opsRefused(w http.ResponseWriter, r *http.Request, cur url.Values, failed *opsFailure, err error) {
	if err != nil {
		if e, isFault := fault.As(err); !isFault || e.Code == fault.NotFound || !failed.f.setError(err) {
			s.fail(w, r, err)
			return
		}
	}
	failed.f.rekey()
	s.showOperations(w, r, http.StatusUnprocessableEntity, cur, failed)
}

// recordPayoutAnswer records the bank's answer to a requested payout: sent, with the bank's
// reference and value date, or returned, with the bank's reason (R12, docs/payouts.md).
func (s *Server) recordPayoutAnswer(w http.ResponseWriter, r *http.Request) {
	outcome := trade.PayoutOutcome(r.PathValue("outcome"))
	if outcome != trade.OutcomeSent && outcome != trade.OutcomeReturned {
		s.render(w, r, http.StatusNotFound, "error.html", "Not found", errorData{Message: "There is no such answer to a payout."})
		return
	}
	f, key, ok, cur, err := opsForm(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ctx, a, id := r.Context(), actorOf(r), r.PathValue("id")
	p, err := s.svc.Payout(ctx, a, id)
	if err != nil {
		s.fail(w, r, err) // an unknown payout is 404
		return
	}
	res := trade.PayoutResult{Outcome: outcome}
	res.Amount, _ = decimalAmount(f, "amount", p.Currency, "amount", p.Sent, true)
	res.ValueDate, _ = dayField(f, "value_date")
	if outcome == trade.OutcomeSent {
		if res.BankReference = strings.TrimSpace(f.Value("bank_reference")); res.BankReference == "" {
			f.add("bank_reference", "Give the bank's reference of the wire, as its report shows it.")
		}
	} else if res.Reason = strings.TrimSpace(f.Value("reason")); res.Reason == "" {
		f.add("reason", "Say why the bank returned it, as its report says (for example: AC04 closed account number).")
	}
	failed := &opsFailure{form: string(outcome), id: id, f: f, anchor: "payout-" + id, what: "Payout #" + shortID(id)}
	if !ok || f.Failed() {
		s.opsRefused(w, r, cur, failed, nil)
		return
	}
	got, err := s.svc.RecordPayoutResult(ctx, a, key, id, res)
	if fault.ReasonOf(err) == "payout_amount_mismatch" { // the domain's words, with the amounts as the page shows them
		err = fault.FieldErr("amount", "payout_amount_mismatch", "the payout sends %s, not %s: check the amount on the bank's report",
			formatMoney(p.Sent, p.Currency), formatMoney(res.Amount.Minor, res.Amount.Currency))
	}
	if err != nil {
		s.opsRefused(w, r, cur, failed, err)
		return
	}
	s.redirect(w, r, opsReturn(cur), payoutRecordedFlash(got, s.orgName(ctx, got.SupplierID)))
}

// payoutRecordedFlash says what recording the answer did.
func payoutRecordedFlash(p trade.Payout, supplier string) string {
	msg := "Payout #" + shortID(p.ID) + " of " + formatMoney(p.Sent, p.Currency) + " to " + supplier
	switch p.Status {
	case trade.PayoutSent:
		msg += " recorded as sent"
		if p.ValueDate != nil {
			msg += " on " + p.ValueDate.Format("2 Jan 2006")
		}
		msg += ", bank reference " + p.BankReference + "."
	case trade.PayoutReturned:
		msg += " recorded as returned by the bank (" + p.ReturnReason + "): the money is owed to the supplier again, and its payout account is flagged until an admin clears it."
	default:
		msg += " is " + string(p.Status) + "."
	}
	if p.Sandbox {
		msg += " It is a sandbox payout: simulated, no money moved."
	}
	return msg
}

// clearPayoutFlag clears the flag a returned payout put on a supplier's account, once the admin
// confirms the supplier's bank details were checked (docs/payouts.md).
func (s *Server) clearPayoutFlag(w http.ResponseWriter, r *http.Request) {
	f, key, ok, cur, err := opsForm(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ctx, a, sup := r.Context(), actorOf(r), r.PathValue("supplier")
	if f.Value("checked") != "yes" {
		f.add("checked", "Confirm that you checked the supplier's new bank details: once the flag is cleared, its payouts are sent to them.")
	}
	failed := &opsFailure{form: "clear", id: sup, f: f, anchor: "flag-" + sup, what: "The flag of " + s.orgName(ctx, sup)}
	if !ok || f.Failed() {
		s.opsRefused(w, r, cur, failed, nil)
		return
	}
	if _, err := s.svc.ClearPayoutFlag(ctx, a, key, sup); err != nil {
		s.opsRefused(w, r, cur, failed, err)
		return
	}
	s.redirect(w, r, opsReturn(cur), "Cleared the payout account flag of "+s.orgName(ctx, sup)+
		": payouts are sent to it again, and its automatic payout is scheduled for what it is owed.")
}

// recordDebitAnswer records the bank's answer to a Pay Later debit: paid or refused (R11).
func (s *Server) recordDebitAnswer(w http.ResponseWriter, r *http.Request) {
	f, key, ok, cur, err := opsForm(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ctx, a, id := r.Context(), actorOf(r), r.PathValue("id")
	paid := f.Value("paid")
	if paid != "yes" && paid != "no" {
		f.add("paid", "Say whether the bank paid the debit or refused it.")
	}
	failed := &opsFailure{form: "result", id: id, f: f, anchor: "debit-" + id, what: "Debit #" + shortID(id)}
	if !ok || f.Failed() {
		s.opsRefused(w, r, cur, failed, nil)
		return
	}
	d, err := s.svc.RecordBankDebitResult(ctx, a, key, id, paid == "yes")
	if err != nil {
		s.opsRefused(w, r, cur, failed, err)
		return
	}
	msg := "Debit #" + shortID(d.ID) + " of " + d.Amount.Display() + " from " + s.orgName(ctx, d.BuyerID)
	switch d.Status {
	case escrow.DebitSucceeded:
		msg += " recorded as paid: the repayment is on loan #" + shortID(d.LoanID) + "."
	case escrow.DebitRefused:
		msg += " recorded as refused by the bank: loan #" + shortID(d.LoanID) + " shows what follows."
	case escrow.DebitUnapplied:
		msg += " recorded as paid, but loan #" + shortID(d.LoanID) + " changed meanwhile: nothing was posted; settle the difference with the lender."
	default:
		msg += " is " + string(d.Status) + "."
	}
	s.redirect(w, r, opsReturn(cur), msg)
}

// retryDebit asks the bank again for a debit waiting for an operator, with the same reference.
func (s *Server) retryDebit(w http.ResponseWriter, r *http.Request) {
	f, key, ok, cur, err := opsForm(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ctx, a, id := r.Context(), actorOf(r), r.PathValue("id")
	failed := &opsFailure{form: "retry-debit", id: id, f: f, anchor: "debit-" + id, what: "Debit #" + shortID(id)}
	if !ok {
		s.opsRefused(w, r, cur, failed, nil)
		return
	}
	d, err := s.svc.RetryBankDebit(ctx, a, key, id)
	if err != nil {
		s.opsRefused(w, r, cur, failed, err)
		return
	}
	msg := "Debit #" + shortID(d.ID) + " waits for the bank's answer again"
	if s.svc.Bank() == nil {
		msg += ": no bank adapter runs on this server, so record the answer below once the bank's report has it."
	} else {
		msg += ": the bank worker asks the bank with the same reference, so a debit that went through is not taken twice."
	}
	s.redirect(w, r, opsReturn(cur), msg)
}

// retryLender asks the lender again for a request waiting for an operator, with the same reference.
func (s *Server) retryLender(w http.ResponseWriter, r *http.Request) {
	f, key, ok, cur, err := opsForm(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ctx, a, id := r.Context(), actorOf(r), r.PathValue("id")
	failed := &opsFailure{form: "retry-lender", id: id, f: f, anchor: "lender-" + id, what: "Lender request #" + shortID(id)}
	if !ok {
		s.opsRefused(w, r, cur, failed, nil)
		return
	}
	lr, err := s.svc.RetryLenderRequest(ctx, a, key, id)
	if err != nil {
		s.opsRefused(w, r, cur, failed, err)
		return
	}
	s.redirect(w, r, opsReturn(cur), "Lender request #"+shortID(lr.ID)+
		" goes back to the lender worker, which asks the lender again with the same reference: a disbursement that was paid is not paid twice.")
}

// decimalAmount reads an amount typed in major units of c, exactly: no floats, no rounding.
// Thousands separators (commas) are taken when commas is set, as a bank's report prints them.
// Nothing typed, a sign, letters, too many decimals or an overflow are refused next to the
// field, in words about noun ("limit", "amount"); example is an amount to show, in minor units.
func decimalAmount(f *form, name string, c money.Currency, noun string, example int64, commas bool) (money.Amount, bool) {
	v := strings.TrimSpace(f.Value(name))
	if commas {
		v = strings.ReplaceAll(v, ",", "")
	}
	like := "like " + formatDecimal(example, c)
	_, frac, _ := strings.Cut(v, ".")
	switch {
	case v == "":
		f.add(name, "Give the "+noun+" in "+string(c)+", "+like+".")
		return money.Amount{}, false
	case strings.HasPrefix(v, "-"):
		f.add(name, "The "+noun+" cannot be negative.")
		return money.Amount{}, false
	case len(frac) > c.Digits() && allDigits(frac):
		f.add(name, string(c)+" has "+itoa(int64(c.Digits()))+" decimal places: give at most that many digits after the point.")
		return money.Amount{}, false
	}
	a, err := money.Parse(v, c)
	switch {
	case errors.Is(err, money.ErrOverflow):
		f.add(name, "That amount is too large.")
		return money.Amount{}, false
	case err != nil:
		f.add(name, "Give the "+noun+" in "+string(c)+" with digits and one point only, "+like+".")
		return money.Amount{}, false
	}
	return a, true
}

// dayField reads a date input (YYYY-MM-DD) as 00:00 UTC of that day.
func dayField(f *form, name string) (time.Time, bool) {
	v := strings.TrimSpace(f.Value(name))
	if v == "" {
		f.add(name, "Give the date, as the bank's report shows it.")
		return time.Time{}, false
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		f.add(name, "Give the date as YYYY-MM-DD, like 2026-03-04.")
		return time.Time{}, false
	}
	return t, true
}
