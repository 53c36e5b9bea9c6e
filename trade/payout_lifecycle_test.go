package trade_test

import (
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/ledger"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/trade"
)

var (
	poAt    = time.Date(2026, 3, 3, 1, 0, 0, 0, time.UTC)
	poAdmin = trade.Actor{Role: trade.RoleAdmin, OrgID: ledger.Platform, UserID: "ops"}
	poRail  = trade.Actor{Role: trade.RoleSystem, OrgID: ledger.Platform, UserID: "sandbox"}
)

func requestedPayout(t *testing.T, sandbox bool) trade.Payout {
	t.Helper()
	p, _, err := trade.PlanPayout(trade.PayoutPlan{ID: "po_1", SupplierID: "sup_1", Currency: "USD", Payable: 1_000_00,
		Receivable: 200_00, Trigger: trade.PayoutAutomatic, Sandbox: sandbox, Now: poAt})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func sentResult(ref string) trade.PayoutResult {
	return trade.PayoutResult{Outcome: trade.OutcomeSent, Amount: money.New(800_00, "USD"), BankReference: ref, ValueDate: poAt}
}

func returnedResult() trade.PayoutResult {
	return trade.PayoutResult{Outcome: trade.OutcomeReturned, Amount: money.New(800_00, "USD"), ValueDate: poAt.Add(48 * time.Hour),
		Reason: "AC04 closed account number"}
}

// moved sums the entries of ts per account ID.
func moved(ts []ledger.Transfer) map[string]int64 {
	out := map[string]int64{}
	for _, t := range ts {
		for _, e := range t.Entries {
			out[e.Account.ID()] += e.Amount
		}
	}
	return out
}

// TestPayoutLifecycleTable ensures every payout state × outcome pair is either a row of the
// lifecycle table or refused, and a row's transfer moves the in-transit money where the outcome
// says: to the rail's clearing account when sent, back to the supplier's payable when returned
// (from the clearing account once it had left). R12
func TestPayoutLifecycleTable(t *testing.T) {
	states := []trade.PayoutStatus{trade.PayoutRequested, trade.PayoutSent, trade.PayoutReturned, trade.PayoutNetted}
	outcomes := []trade.PayoutOutcome{trade.OutcomeSent, trade.OutcomeReturned}
	for _, sandbox := range []bool{false, true} {
		rail := "tt_wire"
		if sandbox {
			rail = trade.SandboxRail
		}
		transit, clearing := trade.InTransitAccount(rail, "USD").ID(), trade.ClearingAccount(rail, "USD").ID()
		payable := trade.PayableAccount("sup_1", "USD").ID()
		for _, st := range states {
			for _, o := range outcomes {
				p := requestedPayout(t, sandbox)
				p.Status = st
				if st == trade.PayoutSent || st == trade.PayoutReturned {
					day := trade.Day(poAt)
					p.ValueDate, p.BankReference = &day, "OTHER-REF"
				}
				if st == trade.PayoutReturned {
					day := trade.Day(poAt.Add(72 * time.Hour)) // another day than the answer's: not the same answer
					p.ReturnDate = &day
				}
				r := sentResult("BANKREF-1")
				if o == trade.OutcomeReturned {
					r = returnedResult()
				}
				got, ts, changed, err := trade.ApplyPayoutResult(p, r, poAdmin, poAt.Add(72*time.Hour))
				want := map[[2]string]trade.PayoutStatus{
					{"requested", "sent"}: trade.PayoutSent, {"requested", "returned"}: trade.PayoutReturned,
					{"sent", "returned"}: trade.PayoutReturned,
				}[[2]string{string(st), string(o)}]
				if want == "" {
					if err == nil || fault.CodeOf(err) != fault.Conflict {
						t.Errorf("%s × %s (sandbox %v): %v, want a conflict", st, o, sandbox, err)
					}
					continue
				}
				if err != nil || !changed || got.Status != want || len(ts) != 1 || got.RecordedBy != "admin:ops" {
					t.Fatalf("%s × %s: %+v %v %v", st, o, got, changed, err)
				}
				m := moved(ts)
				switch {
				case want == trade.PayoutSent:
					if m[transit] != 800_00 || m[clearing] != -800_00 || ts[0].Code != trade.CodePayoutSent {
						t.Errorf("sent moved %v", m)
					}
				case st == trade.PayoutSent:
					if m[clearing] != 800_00 || m[payable] != -800_00 || ts[0].Code != trade.CodePayoutReturned {
						t.Errorf("returned after sent moved %v", m)
					}
				default:
					if m[transit] != 800_00 || m[payable] != -800_00 || ts[0].Code != trade.CodePayoutReturned {
						t.Errorf("returned before sent moved %v", m)
					}
				}
			}
		}
	}
}

// TestPayoutResultValidated ensures an answer that cannot be the bank's for the payout is
// refused with the field at fault — another amount or currency above all — and the same answer
// recorded twice changes nothing. R12
func TestPayoutResultValidated(t *testing.T) {
	p := requestedPayout(t, false)
	now := poAt.Add(time.Hour)
	for _, tc := range []struct {
		name          string
		r             trade.PayoutResult
		field, reason string
	}{
		{"amount", trade.PayoutResult{Outcome: trade.OutcomeSent, Amount: money.New(1_000_00, "USD"), BankReference: "R", ValueDate: poAt},
			"amount", "payout_amount_mismatch"},
		{"currency", trade.PayoutResult{Outcome: trade.OutcomeSent, Amount: money.New(800_00, "EUR"), BankReference: "R", ValueDate: poAt},
			"amount", "payout_amount_mismatch"},
		{"outcome", trade.PayoutResult{Outcome: "lost", Amount: money.New(800_00, "USD"), ValueDate: poAt}, "outcome", "invalid_outcome"},
		{"no reference", sentResult("  "), "bank_reference", "invalid_bank_reference"},
		{"long reference", sentResult("123456789012345678901234567890123456"), "bank_reference", "invalid_bank_reference"},
		{"control character", sentResult("REF\n1"), "bank_reference", "invalid_bank_reference"},
		{"no value date", trade.PayoutResult{Outcome: trade.OutcomeSent, Amount: money.New(800_00, "USD"), BankReference: "R"},
			"value_date", "invalid_value_date"},
		{"before the request", trade.PayoutResult{Outcome: trade.OutcomeSent, Amount: money.New(800_00, "USD"), BankReference: "R",
			ValueDate: poAt.Add(-48 * time.Hour)}, "value_date", "invalid_value_date"},
		{"far ahead", trade.PayoutResult{Outcome: trade.OutcomeSent, Amount: money.New(800_00, "USD"), BankReference: "R",
			ValueDate: poAt.Add(30 * 24 * time.Hour)}, "value_date", "invalid_value_date"},
		{"return without reason", trade.PayoutResult{Outcome: trade.OutcomeReturned, Amount: money.New(800_00, "USD"), ValueDate: poAt},
			"reason", "invalid_return_reason"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, _, err := trade.ApplyPayoutResult(p, tc.r, poAdmin, now)
			e, ok := fault.As(err)
			if !ok || e.Code != fault.Invalid || e.Field != tc.field || e.Reason != tc.reason {
				t.Fatalf("err %v, want %s on %s", err, tc.reason, tc.field)
			}
		})
	}
	sent, ts, changed, err := trade.ApplyPayoutResult(p, sentResult("BANKREF-1"), poRail, now)
	if err != nil || !changed || len(ts) != 1 || sent.RecordedBy != "rail:sandbox" || sent.BankReference != "BANKREF-1" ||
		!sent.ValueDate.Equal(trade.Day(poAt)) || sent.SentAt == nil || len(sent.TransferIDs) != 3 {
		t.Fatalf("sent %+v %v", sent, err)
	}
	again, ts, changed, err := trade.ApplyPayoutResult(sent, sentResult("BANKREF-1"), poAdmin, now)
	if err != nil || changed || len(ts) != 0 || again.RecordedBy != sent.RecordedBy {
		t.Fatalf("the same confirmation again: %+v changed %v, %v", again, changed, err)
	}
	if _, _, _, err := trade.ApplyPayoutResult(sent, sentResult("BANKREF-2"), poAdmin, now); fault.ReasonOf(err) != "payout_recorded" {
		t.Fatalf("another confirmation: %v", err)
	}
	if _, _, _, err := trade.ApplyPayoutResult(sent, returnedResult(), trade.Actor{Role: trade.RoleSupplier, OrgID: "sup_1"}, now.Add(72*time.Hour)); fault.CodeOf(err) != fault.Forbidden {
		t.Fatalf("a supplier recorded a return: %v", err)
	}
	netted, _, err := trade.PlanPayout(trade.PayoutPlan{ID: "po_2", SupplierID: "sup_1", Currency: "USD", Payable: 100_00, Receivable: 100_00, Now: poAt})
	if err != nil {
		t.Fatal(err)
	}
	r := sentResult("X")
	r.Amount = money.New(0, "USD")
	if _, _, _, err := trade.ApplyPayoutResult(netted, r, poAdmin, now); fault.ReasonOf(err) != "payout_not_sent" {
		t.Fatalf("confirming a netting: %v", err)
	}
}
