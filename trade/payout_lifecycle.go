package trade

import (
	"strings"
	"time"
	"unicode"

	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/ledger"
	"github.com/tradeassure/tradeassure/money"
)

// A payout's lifecycle after it is requested: the rail (or an operator reading the bank's
// report, where no adapter runs) says the wire left — sent — or the bank returned it —
// returned. Each answer is one balanced transfer, never an edit of an earlier one.

// The transfer codes of payouts.
const (
	CodePayoutNetting   = "payout_netting"   // supplier_payable → supplier_receivable: the debt settled first (R14)
	CodePayoutRequested = "payout_requested" // supplier_payable → payouts_in_transit: the rail told to send
	// CodePayoutSent is payouts_in_transit → rail_clearing: the rail confirmed the wire left. A
	// payout booked before payouts had a lifecycle (migration 00017) has one transfer of this
	// code straight from supplier_payable instead, and none requested.
	CodePayoutSent     = "payout"
	CodePayoutReturned = "payout_returned" // payouts_in_transit (or rail_clearing, once sent) → supplier_payable
)

// PayoutOutcome is what the rail answers about a requested payout.
type PayoutOutcome string

// The outcomes.
const (
	OutcomeSent     PayoutOutcome = "sent"     // the wire left the platform's bank
	OutcomeReturned PayoutOutcome = "returned" // the bank returned (or rejected) it
)

// payoutStep is one row of the payout lifecycle: an outcome recorded in a state, the state it
// leads to, and who may record it.
type payoutStep struct {
	from    PayoutStatus
	outcome PayoutOutcome
	to      PayoutStatus
	roles   []Role
}

// PayoutLifecycle is the payout state machine as data: anything not listed is refused. The
// system is the payout rail's worker; an admin records what the bank's report says where no
// adapter answers. A payout that netted everything never reaches the rail.
var PayoutLifecycle = []payoutStep{
	{PayoutRequested, OutcomeSent, PayoutSent, []Role{RoleSystem, RoleAdmin}},
	{PayoutRequested, OutcomeReturned, PayoutReturned, []Role{RoleSystem, RoleAdmin}},
	{PayoutSent, OutcomeReturned, PayoutReturned, []Role{RoleSystem, RoleAdmin}},
}

// payoutStepOf finds the lifecycle row of outcome in state from.
func payoutStepOf(from PayoutStatus, o PayoutOutcome) (payoutStep, bool) {
	for _, s := range PayoutLifecycle {
		if s.from == from && s.outcome == o {
			return s, true
		}
	}
	return payoutStep{}, false
}

// Limits of a payout answer.
const (
	// BankReferenceMax bounds the bank's reference: ISO 20022's Max35Text, as camt.054 carries it.
	BankReferenceMax = 35
	// ReturnReasonMax bounds the reason of a return: ISO 20022's Max140Text (AdditionalInformation).
	ReturnReasonMax = 140
	// ValueDateAheadMax is how far ahead of today a value date may be: a bank value-dates a wire
	// at most a few business days ahead.
	ValueDateAheadMax = 7 * 24 * time.Hour
)

// PayoutResult is the rail's answer to a payout, or the one an operator read on the bank's
// report. Amount must be the payout's sent amount, in its currency.
type PayoutResult struct {
	Outcome       PayoutOutcome `json:"outcome"`
	Amount        money.Amount  `json:"amount"`
	BankReference string        `json:"bank_reference,omitempty"` // sent: the bank's reference of the wire
	ValueDate     time.Time     `json:"value_date"`               // sent: the day it left; returned: the day it came back
	Reason        string        `json:"reason,omitempty"`         // returned: why, as the bank said
}

// ApplyPayoutResult records r on p as actor a (its user, for the record): it returns the payout
// after it and the one transfer to post. The same answer recorded again returns p unchanged and
// no transfer (changed false); a different answer for a payout answered already is refused
// (payout_recorded), and so is an amount that is not the payout's (payout_amount_mismatch).
func ApplyPayoutResult(p Payout, r PayoutResult, a Actor, now time.Time) (Payout, []ledger.Transfer, bool, error) {
	if err := validatePayoutResult(p, r, now); err != nil {
		return Payout{}, nil, false, err
	}
	step, ok := payoutStepOf(p.Status, r.Outcome)
	switch {
	case p.Status == PayoutNetted:
		return Payout{}, nil, false, fault.New(fault.Conflict, "payout_not_sent", "the payout netted everything: nothing was sent")
	case !ok && samePayoutAnswer(p, r):
		return p, nil, false, nil
	case !ok:
		return Payout{}, nil, false, fault.New(fault.Conflict, "payout_recorded", "the payout is %s already", p.Status)
	case !roleIn(a.Role, step.roles):
		return Payout{}, nil, false, fault.New(fault.Forbidden, "role_not_allowed", "only an admin or the payout rail records a payout's outcome")
	}
	c, rail := p.Currency, p.Rail()
	var from, to ledger.Account
	var code, suffix string
	at := now
	day := Day(r.ValueDate)
	switch {
	case step.to == PayoutSent:
		from, to, code, suffix = InTransitAccount(rail, c), ClearingAccount(rail, c), CodePayoutSent, "sent"
		p.BankReference, p.ValueDate, p.SentAt = strings.TrimSpace(r.BankReference), &day, &at
	case p.Status == PayoutSent: // returned after it left: the money comes back through the rail
		from, to, code, suffix = ClearingAccount(rail, c), PayableAccount(p.SupplierID, c), CodePayoutReturned, "ret"
		p.ReturnDate, p.ReturnReason, p.ReturnedAt = &day, strings.TrimSpace(r.Reason), &at
	default: // returned before it left: the instruction is undone
		from, to, code, suffix = InTransitAccount(rail, c), PayableAccount(p.SupplierID, c), CodePayoutReturned, "ret"
		p.ReturnDate, p.ReturnReason, p.ReturnedAt = &day, strings.TrimSpace(r.Reason), &at
	}
	t, err := ledger.NewTransfer("tr_"+p.ID+"_"+suffix, code, c, "", now).Post(from, to, p.Sent).Memo(p.Reference).Build()
	if err != nil {
		return Payout{}, nil, false, err // a bug: a requested payout sends a positive amount
	}
	p.Status, p.TransferIDs = step.to, append(append([]string(nil), p.TransferIDs...), t.ID)
	p.Attention, p.LastError, p.LeaseOwner, p.LeaseUntil, p.NextAttemptAt = false, "", "", time.Time{}, time.Time{}
	p.RecordedBy = recordedBy(a)
	return p, []ledger.Transfer{t}, true, nil
}

// recordedBy names who recorded an answer: the rail's worker, or an admin.
func recordedBy(a Actor) string {
	if a.Role == RoleAdmin {
		return "admin:" + a.UserID
	}
	return "rail:" + a.UserID
}

func roleIn(r Role, rs []Role) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}

// samePayoutAnswer reports whether r is the answer p records already: the same outcome, and for
// a confirmation the same bank reference and value date.
func samePayoutAnswer(p Payout, r PayoutResult) bool {
	switch r.Outcome {
	case OutcomeSent:
		return p.Status == PayoutSent && p.BankReference == strings.TrimSpace(r.BankReference) &&
			p.ValueDate != nil && p.ValueDate.Equal(Day(r.ValueDate))
	case OutcomeReturned:
		return p.Status == PayoutReturned && p.ReturnDate != nil && p.ReturnDate.Equal(Day(r.ValueDate))
	}
	return false
}

// validatePayoutResult refuses an answer that cannot be the bank's for p: an unknown outcome,
// another amount or currency, a missing or malformed bank reference or reason, a value date
// before the payout was requested or too far ahead.
func validatePayoutResult(p Payout, r PayoutResult, now time.Time) error {
	if r.Outcome != OutcomeSent && r.Outcome != OutcomeReturned {
		return fault.FieldErr("outcome", "invalid_outcome", "say whether the payout was sent or returned")
	}
	if r.Amount.Currency != p.Currency || r.Amount.Minor != p.Sent {
		return fault.FieldErr("amount", "payout_amount_mismatch", "the payout sends %s, not %s",
			money.New(p.Sent, p.Currency), r.Amount)
	}
	day, today := Day(r.ValueDate), Day(now)
	switch {
	case r.ValueDate.IsZero():
		return fault.FieldErr("value_date", "invalid_value_date", "give the bank's value date")
	case day.Before(Day(p.CreatedAt)):
		return fault.FieldErr("value_date", "invalid_value_date", "the value date is before the payout was requested (%s)",
			Day(p.CreatedAt).Format(time.DateOnly))
	case day.After(today.Add(ValueDateAheadMax)):
		return fault.FieldErr("value_date", "invalid_value_date", "the value date is more than %d days ahead",
			int(ValueDateAheadMax/(24*time.Hour)))
	case r.Outcome == OutcomeReturned && p.ValueDate != nil && day.Before(*p.ValueDate):
		return fault.FieldErr("value_date", "invalid_value_date", "the payout left on %s: it cannot come back before",
			p.ValueDate.Format(time.DateOnly))
	}
	if r.Outcome == OutcomeSent {
		if ref := strings.TrimSpace(r.BankReference); ref == "" || len(ref) > BankReferenceMax || !printable(ref) {
			return fault.FieldErr("bank_reference", "invalid_bank_reference",
				"give the bank's reference of the wire: 1 to %d printable characters", BankReferenceMax)
		}
		return nil
	}
	if why := strings.TrimSpace(r.Reason); why == "" || len(why) > ReturnReasonMax || !printable(why) {
		return fault.FieldErr("reason", "invalid_return_reason", "say why the bank returned it: 1 to %d characters", ReturnReasonMax)
	}
	return nil
}

func printable(s string) bool {
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// PayoutAccountFlag marks a supplier's designated bank account after the bank returned a
// payout to it: nothing more is sent to the supplier until an admin clears the flag (the
// supplier has given correct details). Netting its debt goes on: nothing leaves.
type PayoutAccountFlag struct {
	SupplierID string     `json:"supplier_id"`
	PayoutID   string     `json:"payout_id" doc:"The returned payout that flagged the account."`
	Reason     string     `json:"reason" doc:"Why the bank returned it."`
	FlaggedAt  time.Time  `json:"flagged_at"`
	ClearedAt  *time.Time `json:"cleared_at,omitempty"`
	ClearedBy  string     `json:"cleared_by,omitempty"`
}
