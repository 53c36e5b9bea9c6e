package notify_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/notify"
	"github.com/tradeassure/tradeassure/payment"
	"github.com/tradeassure/tradeassure/trade"
)

// samplePayout is a payout of USD 11,600.00 by international wire to supplier "sup", in status st.
func samplePayout(st trade.PayoutStatus) *trade.Payout {
	p := &trade.Payout{ID: "po_00000000aaaa2222", SupplierID: "sup", Currency: "USD", PayableBefore: 11_600_00, Sent: 11_600_00,
		Method: payment.TTWire, Reference: trade.PayoutReference("po_00000000aaaa2222"), Status: st, Trigger: trade.PayoutAutomatic,
		CreatedAt: t0}
	if st == trade.PayoutReturned {
		at := t0.Add(time.Hour)
		p.ReturnedAt, p.ReturnReason = &at, "AC04 closed account number"
	}
	return p
}

// payoutEvent is an event of p's supplier's stream naming p, as escrow publishes it.
func payoutEvent(p *trade.Payout, typ string) escrow.Event {
	b, _ := json.Marshal(map[string]any{"id": p.ID, "supplier_id": p.SupplierID, "status": p.Status})
	return escrow.Event{GlobalSeq: 21, Stream: p.SupplierID, Seq: 3, Type: typ, At: t0, Payload: b}
}

func openFlag(p *trade.Payout) *trade.PayoutAccountFlag {
	return &trade.PayoutAccountFlag{SupplierID: p.SupplierID, PayoutID: p.ID, Reason: p.ReturnReason, FlaggedAt: t0}
}

// TestPayoutReturnTellsSupplierAndAdmins: a payout the bank returned asks the supplier to correct
// its bank details — the money is owed to it again, on its payouts page — and the platform's
// admins to clear the flag once it has, on the Operations page's flagged accounts (the API's
// operation named for programs); once the flag is cleared
// it asks nothing, and an event of another payout or another supplier's stream tells no one. R12
func TestPayoutReturnTellsSupplierAndAdmins(t *testing.T) {
	p := samplePayout(trade.PayoutReturned)
	ev := payoutEvent(p, "payout.returned")
	pl := notify.ForPayout(ev, notify.PayoutSubject{Supplier: "Ningbo Sunrise", Payout: p, Flag: openFlag(p)})
	if got := strings.Join(to(pl), ","); got != "sup/supplier:payout_returned,platform/admin:payout_returned" {
		t.Fatalf("returned: %s", got)
	}
	sup, adm := pl.Notices[0], pl.Notices[1]
	for _, want := range []string{"USD 11,600.00", "AC04 closed account number", p.Reference, "correct bank details", "Payouts page"} {
		if !strings.Contains(sup.Body, want) {
			t.Errorf("the supplier's notice lacks %q: %s", want, sup.Body)
		}
	}
	if sup.Link != "/payouts" || sup.OrderID != "" || sup.Title != "Payout of USD 11,600.00 returned by the bank" || strings.Contains(sup.Body, "sandbox") {
		t.Errorf("the supplier's notice: %+v", sup)
	}
	for _, want := range []string{"Ningbo Sunrise", "USD 11,600.00", "AC04 closed account number", "clear the flag on the Operations page",
		"POST /v1/payouts/flags/sup/clear"} {
		if !strings.Contains(adm.Body, want) {
			t.Errorf("the admins' notice lacks %q: %s", want, adm.Body)
		}
	}
	if adm.Link != "/admin/operations#flags" || !strings.Contains(adm.Title, "Ningbo Sunrise") {
		t.Errorf("the admins' notice: %+v", adm)
	}

	p.Sandbox = true
	if pl := notify.ForPayout(ev, notify.PayoutSubject{Payout: p, Flag: openFlag(p)}); len(pl.Notices) != 2 ||
		!strings.Contains(pl.Notices[0].Body, "sandbox payout: simulated, no money moved") || !strings.Contains(pl.Notices[1].Body, "the supplier's payout") {
		t.Errorf("a sandbox return: %+v", pl.Notices)
	}
	p.Sandbox = false
	if pl := notify.ForPayout(ev, notify.PayoutSubject{Payout: p}); len(pl.Notices) != 0 {
		t.Errorf("the flag cleared since: %+v", pl.Notices)
	}
	other := *p
	other.ID = "po_other"
	if pl := notify.ForPayout(ev, notify.PayoutSubject{Payout: &other, Flag: openFlag(p)}); len(pl.Notices) != 0 {
		t.Errorf("another payout than the event's: %+v", pl.Notices)
	}
	elsewhere := ev
	elsewhere.Stream = "sup_other"
	if pl := notify.ForPayout(elsewhere, notify.PayoutSubject{Payout: p, Flag: openFlag(p)}); len(pl.Notices) != 0 {
		t.Errorf("an event of another supplier's stream: %+v", pl.Notices)
	}
}

// TestAdminsToldOfPayoutsToSettle: the platform's admins hear of a payout only an operator can
// move on — the bank's answer to record where no payout adapter runs, a payout the rail gave no
// usable answer to — while it still waits for them, on the Operations page's payouts (the API's
// operation named for programs); the supplier is not told. R12
func TestAdminsToldOfPayoutsToSettle(t *testing.T) {
	for name, c := range map[string]struct {
		typ       string
		now       trade.PayoutStatus // the payout's status when the notifier handles the event
		attention bool
		attempts  int
		manual    bool
		sandbox   bool
		want      string
		contains  string
	}{
		"to record":              {"payout.requested", trade.PayoutRequested, false, 0, true, false, "platform/admin:payout_to_record", "POST /v1/payouts/po_00000000aaaa2222/result"},
		"an adapter answers":     {"payout.requested", trade.PayoutRequested, false, 0, false, false, "", ""},
		"the sandbox answers":    {"payout.requested", trade.PayoutRequested, false, 0, true, true, "", ""},
		"sent since":             {"payout.requested", trade.PayoutSent, false, 0, true, false, "", ""},
		"returned since":         {"payout.requested", trade.PayoutReturned, false, 0, true, false, "", ""},
		"attention":              {"payout.attention", trade.PayoutRequested, true, 8, false, false, "platform/admin:payout_attention", "after 8 attempts (last error: bank unavailable: 503)"},
		"attention, one attempt": {"payout.attention", trade.PayoutRequested, true, 1, false, false, "platform/admin:payout_attention", "after 1 attempt (last error"},
		"attention, answered":    {"payout.attention", trade.PayoutSent, false, 8, false, false, "", ""},
		"attention, not marked":  {"payout.attention", trade.PayoutRequested, false, 3, false, false, "", ""},
	} {
		p := samplePayout(c.now)
		p.Attention, p.Attempts, p.Sandbox = c.attention, c.attempts, c.sandbox
		if c.attention {
			p.LastError = "bank unavailable: 503"
		}
		pl := notify.ForPayout(payoutEvent(p, c.typ), notify.PayoutSubject{Supplier: "Ningbo Sunrise", Payout: p, ManualPayouts: c.manual})
		if got := strings.Join(to(pl), ","); got != c.want {
			t.Errorf("%s: %q, want %q", name, got, c.want)
			continue
		}
		if c.want == "" {
			continue
		}
		n := pl.Notices[0]
		if !strings.Contains(n.Body, c.contains) || !strings.Contains(n.Body, "Ningbo Sunrise's payout "+p.ID+" of USD 11,600.00 by tt_wire") ||
			!strings.Contains(n.Body, "answer from its report on the Operations page") && !strings.Contains(n.Body, "answer on the Operations page") ||
			n.Link != "/admin/operations#payouts" || !strings.Contains(n.Title, notify.ShortRef(p.ID)) {
			t.Errorf("%s: %+v", name, n)
		}
	}
	p := samplePayout(trade.PayoutRequested)
	if pl := notify.ForPayout(payoutEvent(p, "payout.requested"), notify.PayoutSubject{Payout: p, ManualPayouts: true}); len(pl.Notices) != 1 ||
		!strings.Contains(pl.Notices[0].Body, "the supplier's payout") || !strings.Contains(pl.Notices[0].Body, "quoting that reference") ||
		!strings.Contains(pl.Notices[0].Body, "reference "+p.Reference) {
		t.Errorf("without the supplier's name: %+v", pl.Notices)
	}
}

// TestPayoutEventsThatAskNothing: a payout sent (money on its way: the supplier reads it on its
// payouts page, programs on the events feed), one that only netted the supplier's debt, a flag
// an admin cleared ask no one to act; and the payout rules read only payout events.
func TestPayoutEventsThatAskNothing(t *testing.T) {
	for _, st := range []trade.PayoutStatus{trade.PayoutRequested, trade.PayoutSent, trade.PayoutReturned, trade.PayoutNetted} {
		p := samplePayout(st)
		p.Attention = true
		full := notify.PayoutSubject{Supplier: "Ningbo Sunrise", Payout: p, Flag: openFlag(p), ManualPayouts: true}
		for _, typ := range []string{"payout.sent", "payout.netted", "payout.account_cleared", "suspense.received", "loan.debit_attention"} {
			if pl := notify.ForPayout(payoutEvent(p, typ), full); len(pl.Notices)+len(pl.Reminders) != 0 {
				t.Errorf("%s of a %s payout asks %+v", typ, st, pl)
			}
		}
		if pl := notify.ForPayout(payoutEvent(p, "payout.returned"), notify.PayoutSubject{Flag: openFlag(p)}); len(pl.Notices) != 0 {
			t.Errorf("no payout read: %+v", pl)
		}
	}
	p := samplePayout(trade.PayoutReturned)
	garbled := payoutEvent(p, "payout.returned")
	garbled.Payload = []byte(`"not an object"`)
	if pl := notify.ForPayout(garbled, notify.PayoutSubject{Payout: p, Flag: openFlag(p)}); len(pl.Notices) != 0 {
		t.Errorf("a payload the rules cannot read: %+v", pl)
	}
}
