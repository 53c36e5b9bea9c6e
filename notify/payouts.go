package notify

import (
	"encoding/json"
	"fmt"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/ledger"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/trade"
)

// Supplier payouts (docs/payouts.md): a payout's events are on its supplier's stream. Their rules
// are here, pure like the others: they take the event and the payout as it is when the event is
// handled, and a request no longer needed — an answer recorded since, a flag cleared since — is
// not sent. A payout sent, or one that only netted the supplier's debt, asks no one to act.

// Kinds of notification about payouts.
const (
	// PayoutReturned: the bank returned a payout. The supplier corrects its bank details (the
	// money is owed to it again); the platform's admins clear the account's flag once it has.
	PayoutReturned Kind = "payout_returned"
	// PayoutToRecord: no payout adapter runs, so an admin records the bank's answer to a payout.
	PayoutToRecord Kind = "payout_to_record"
	// PayoutAttention: the payout rail gave no usable answer; an admin records the bank's.
	PayoutAttention Kind = "payout_attention"
)

// PayoutsLink is the supplier's payouts page in the portal: what it is owed, the flag on its
// account, its payouts.
const PayoutsLink = "/payouts"

// PayoutSubject is what a payout's event is about, as it is when the notifier handles it
// (normally within a second of the event).
type PayoutSubject struct {
	Supplier string        // the supplier's name, for the admins' notices
	Payout   *trade.Payout // the payout the event names; nil when there is none
	// Flag is the supplier's open payout-account flag, read for a return only: nil when none is
	// open (an admin cleared it since).
	Flag *trade.PayoutAccountFlag
	// ManualPayouts says no payout adapter answers payouts on this platform (the sandbox off):
	// an operator records each answer from the bank's report (docs/payouts.md, "Who answers").
	ManualPayouts bool
}

type payoutRule struct {
	needFlag bool // the rule reads the supplier's open flag
	rule     func(*prules)
}

// payoutRules are the payout events that ask someone to act, by type.
var payoutRules = map[string]payoutRule{
	"payout.requested": {false, (*prules).toRecord},
	"payout.returned":  {true, (*prules).returned},
	"payout.attention": {false, (*prules).attention},
}

// ForPayout is what a payout's event asks for: who must act. s is the payout as it is when the
// event is handled: a payout answered since, or a return whose flag an admin cleared since, asks
// nothing.
func ForPayout(ev escrow.Event, s PayoutSubject) Plan {
	rule, ok := payoutRules[ev.Type]
	var ref struct {
		ID string `json:"id"`
	}
	p := s.Payout
	if !ok || json.Unmarshal(ev.Payload, &ref) != nil || p == nil || p.ID != ref.ID || p.SupplierID != ev.Stream {
		return Plan{}
	}
	r := prules{p: p, s: s}
	rule.rule(&r)
	return Plan{Notices: r.notices}
}

// prules builds the plan of one payout's event.
type prules struct {
	p       *trade.Payout
	s       PayoutSubject
	notices []Notice
}

// toSupplier tells the supplier's users, on their payouts page.
func (r *prules) toSupplier(k Kind, title, body string) {
	r.notices = append(r.notices, Notice{Kind: k, To: Recipient{OrgID: r.p.SupplierID, Roles: []trade.Role{trade.RoleSupplier}},
		Title: clip(title, TitleMax), Body: clip(body, BodyMax), Link: PayoutsLink})
}

// toAdmins tells the platform's admins, linking the section of the Operations page where they act.
func (r *prules) toAdmins(k Kind, link, title, body string) {
	r.notices = append(r.notices, Notice{Kind: k, To: Recipient{OrgID: ledger.Platform, Roles: []trade.Role{trade.RoleAdmin}},
		Title: clip(title, TitleMax), Body: clip(body, BodyMax), Link: link})
}

func (r *prules) amount() string { return money.New(r.p.Sent, r.p.Currency).Display() }

func (r *prules) supplier() string {
	if r.s.Supplier != "" {
		return r.s.Supplier
	}
	return "the supplier"
}

// sandbox says what a sandbox payout is, for the end of a notice; "" for a real one.
func (r *prules) sandbox() string {
	if r.p.Sandbox {
		return " This is a sandbox payout: simulated, no money moved."
	}
	return ""
}

// toRecord: without a payout adapter, an admin has the bank send the payout and records its
// answer, while the payout waits for one.
func (r *prules) toRecord() {
	p := r.p
	if !r.s.ManualPayouts || p.Status != trade.PayoutRequested || p.Sandbox {
		return // answered since, or an adapter (or the sandbox) answers it
	}
	r.toAdmins(PayoutToRecord, OperationsPayoutsLink, fmt.Sprintf("Record the bank's answer to payout %s", ShortRef(p.ID)),
		fmt.Sprintf("%s's payout %s of %s by %s, reference %s, waits for the bank. No payout adapter runs on this platform: "+
			"unless that is done already, have the platform's bank send it to the supplier's designated account quoting that "+
			"reference; then record the bank's answer from its report on the Operations page — sent, with the bank's reference "+
			"and value date, or returned, with its reason (programs: POST /v1/payouts/%s/result). Until then the money stays "+
			"in transit.", r.supplier(), p.ID, r.amount(), p.Method, p.Reference, p.ID))
}

// returned: the bank sent the payout back. The supplier corrects its bank details; the admins
// clear the flag once it has — while the flag is still open.
func (r *prules) returned() {
	p := r.p
	if p.Status != trade.PayoutReturned || r.s.Flag == nil || r.s.Flag.SupplierID != p.SupplierID {
		return // the flag was cleared since: the account is fixed
	}
	reason := p.ReturnReason
	if reason == "" {
		reason = "no reason given"
	}
	r.toSupplier(PayoutReturned, fmt.Sprintf("Payout of %s returned by the bank", r.amount()),
		fmt.Sprintf("The bank returned payout %s of %s (reference %s): %s. The money is back in what the platform owes you, "+
			"on your Payouts page. Nothing more is sent to your bank account until it is corrected: send the platform your "+
			"correct bank details. Once an admin has cleared the flag, the next automatic payout sends what you are owed.%s",
			ShortRef(p.ID), r.amount(), p.Reference, reason, r.sandbox()))
	r.toAdmins(PayoutReturned, OperationsFlagsLink, fmt.Sprintf("Payout %s to %s returned by the bank", ShortRef(p.ID), r.supplier()),
		fmt.Sprintf("The bank returned %s's payout %s of %s: %s. The money is owed to the supplier again, and its payout "+
			"account is flagged: nothing more is sent to it. Once the supplier has given correct bank details, clear the flag "+
			"on the Operations page (programs: POST /v1/payouts/flags/%s/clear); that schedules the automatic payout of what "+
			"it is owed.%s",
			r.supplier(), p.ID, r.amount(), reason, p.SupplierID, r.sandbox()))
}

// attention: the payout rail gave no answer after every attempt, or one that does not fit the
// payout; whether the wire left is unknown until an operator records the bank's answer — while
// the payout still waits for one.
func (r *prules) attention() {
	p := r.p
	if p.Status != trade.PayoutRequested || !p.Attention {
		return // answered since
	}
	tries := fmt.Sprintf("%d attempts", p.Attempts)
	if p.Attempts == 1 {
		tries = "1 attempt"
	}
	lastError := ""
	if p.LastError != "" {
		lastError = " (last error: " + p.LastError + ")"
	}
	r.toAdmins(PayoutAttention, OperationsPayoutsLink, fmt.Sprintf("Payout %s needs an operator", ShortRef(p.ID)),
		fmt.Sprintf("The payout rail gave no usable answer to %s's payout %s of %s by %s after %s%s, and it is not asked "+
			"again. Whether the wire left is unknown: ask the bank, and record its answer on the Operations page, where the "+
			"payout is marked — sent, with its reference and value date, or returned, with its reason (programs: POST "+
			"/v1/payouts/%s/result; GET /v1/payouts?attention=true lists every payout waiting for an operator).%s",
			r.supplier(), p.ID, r.amount(), p.Method, tries, lastError, p.ID, r.sandbox()))
}
