package trade_test

import (
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/ledger"
	"github.com/tradeassure/tradeassure/payment"
	"github.com/tradeassure/tradeassure/trade"
)

// TestPlanPayout ensures a payout nets the supplier's debt first and asks the rail to send only
// the rest, with balanced transfers from the payable to the receivable and to the rail's
// in-transit account (never to its clearing account before the rail confirms), and refuses when
// nothing is owed or the supplier's account is flagged by a return. R12 R14
func TestPlanPayout(t *testing.T) {
	now := time.Date(2026, 3, 3, 1, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name                string
		payable, receivable int64
		sandbox, flagged    bool
		netted, sent        int64
		status              trade.PayoutStatus
		reason              string
	}{
		{name: "no debt: all requested", payable: 1_000_00, sent: 1_000_00, status: trade.PayoutRequested},
		{name: "debt netted, rest requested", payable: 1_000_00, receivable: 300_00, netted: 300_00, sent: 700_00, status: trade.PayoutRequested},
		{name: "sandbox", payable: 1_000_00, sandbox: true, sent: 1_000_00, status: trade.PayoutRequested},
		{name: "debt equal to the payable", payable: 500_00, receivable: 500_00, netted: 500_00, status: trade.PayoutNetted},
		{name: "debt larger: only netted", payable: 200_00, receivable: 900_00, netted: 200_00, status: trade.PayoutNetted},
		{name: "flagged, only netted: nothing leaves", payable: 200_00, receivable: 900_00, flagged: true, netted: 200_00, status: trade.PayoutNetted},
		{name: "flagged, something to send", payable: 1_000_00, receivable: 300_00, flagged: true, reason: "payout_account_flagged"},
		{name: "nothing owed", payable: 0, receivable: 100_00, reason: "nothing_to_pay_out"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, ts, err := trade.PlanPayout(trade.PayoutPlan{ID: "po_1", SupplierID: "sup_1", Currency: "USD", Payable: tc.payable,
				Receivable: tc.receivable, Trigger: trade.PayoutByAdmin, Sandbox: tc.sandbox, Flagged: tc.flagged, Now: now})
			if tc.reason != "" {
				if fault.ReasonOf(err) != tc.reason || fault.CodeOf(err) != fault.Conflict {
					t.Fatalf("err %v, want %s", err, tc.reason)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Netted != tc.netted || p.Sent != tc.sent || p.Status != tc.status || p.Method != payment.TTWire ||
				p.PayableBefore != tc.payable || len(p.TransferIDs) != len(ts) || p.Sandbox != tc.sandbox {
				t.Fatalf("payout %+v", p)
			}
			moved := map[ledger.Kind]int64{}
			for _, tr := range ts {
				if err := tr.Validate(); err != nil {
					t.Fatal(err)
				}
				for _, e := range tr.Entries {
					moved[e.Account.Kind] += e.Amount
					if e.Account.Kind == ledger.PayoutsInTransit && e.Account.Owner != p.Rail() {
						t.Fatalf("in transit on %s, want %s", e.Account, p.Rail())
					}
				}
			}
			if moved[ledger.SupplierPayable] != tc.payable || moved[ledger.SupplierReceivable] != -tc.netted ||
				moved[ledger.PayoutsInTransit] != -tc.sent || moved[ledger.RailClearing] != 0 {
				t.Fatalf("moved %v", moved)
			}
		})
	}
}

// TestPayoutTiming ensures the automatic payout runs at the next 00:00 UTC plus the delay, and
// the reference fits a SWIFT field 20.
func TestPayoutTiming(t *testing.T) {
	at := trade.NextPayoutAt(time.Date(2026, 3, 2, 23, 59, 0, 0, time.UTC), time.Hour)
	if !at.Equal(time.Date(2026, 3, 3, 1, 0, 0, 0, time.UTC)) {
		t.Fatalf("next payout %s", at)
	}
	if at := trade.NextPayoutAt(time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC), 0); !at.Equal(time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("a release at midnight pays out at %s", at)
	}
	if r := trade.PayoutReference("po_x"); len(r) != trade.PayoutReferenceMax || r == trade.PayoutReference("po_y") {
		t.Fatalf("reference %q", r)
	}
	if _, err := trade.PayoutMethod("BRL"); fault.ReasonOf(err) != "payout_rail_unavailable" {
		t.Fatalf("BRL payout rail: %v", err)
	}
}

// TestPayableComposition ensures the releases listed as making up a payable balance are the
// newest, the oldest of them in part: payouts pay the oldest releases first. R12
func TestPayableComposition(t *testing.T) {
	credits := []trade.PayableCredit{{TransferID: "c", Amount: 500}, {TransferID: "b", Amount: 300}, {TransferID: "a", Amount: 200}}
	got := trade.PayableComposition(650, credits)
	if len(got) != 2 || got[0].Unpaid != 500 || got[1].TransferID != "b" || got[1].Unpaid != 150 {
		t.Fatalf("composition %+v", got)
	}
	if got := trade.PayableComposition(0, credits); len(got) != 0 {
		t.Fatalf("an empty balance is made of %+v", got)
	}
}
