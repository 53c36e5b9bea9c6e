package web

import (
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/trade"
)

// TestPayoutStatusText ensures the portal says where each payout is in words — requested
// (waiting for the bank), sent with its value date and the bank's reference, returned with the
// bank's reason, netted — and that a sandbox payout says it moved no money. R12
func TestPayoutStatusText(t *testing.T) {
	day := time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		p    trade.Payout
		want string
	}{
		{"requested", trade.Payout{Status: trade.PayoutRequested}, "Requested: waiting for the bank's confirmation"},
		{"sent", trade.Payout{Status: trade.PayoutSent, ValueDate: &day, BankReference: "FT26063"}, "Sent on 4 Mar 2026, bank reference FT26063"},
		{"returned", trade.Payout{Status: trade.PayoutReturned, ReturnReason: "AC04 closed account number"},
			"Returned by the bank: AC04 closed account number"},
		{"netted", trade.Payout{Status: trade.PayoutNetted, Sandbox: true}, "Netted: nothing sent"},
		{"sandbox", trade.Payout{Status: trade.PayoutSent, ValueDate: &day, BankReference: "SANDBOX-1", Sandbox: true},
			"Sent on 4 Mar 2026, bank reference SANDBOX-1 (sandbox: simulated, no money moved)"},
	} {
		if got := (payoutRow{tc.p}).StatusText(); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
