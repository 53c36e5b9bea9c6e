package escrow_test

import (
	"testing"

	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/trade"
)

// TestOpenPayoutFlagsPage ensures an admin lists the suppliers whose payout account a return
// flagged — the flag naming the returned payout and the bank's reason — until the flag is
// cleared, and that nobody else may list them. R12
func TestOpenPayoutFlagsPage(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		p := e.requested(nil)
		for _, a := range []trade.Actor{e.buyer, e.supplier, e.arbiter} {
			if _, _, err := e.svc.OpenPayoutFlagsPage(e.ctx, a, "", 10); fault.CodeOf(err) != fault.Forbidden {
				t.Errorf("%s listed the flags: %v", a.Role, err)
			}
		}
		if fs, next := pageOf(t, e, ""); len(fs) != 0 || next != "" {
			t.Fatalf("flags before a return: %+v, next %q", fs, next)
		}
		must(e.svc.RecordPayoutResult(e.ctx, e.admin, e.key(), p.ID, bankReturn(p, e.clock.Now())))
		fs, next := pageOf(t, e, "")
		if len(fs) != 1 || fs[0].SupplierID != e.supplier.OrgID || fs[0].PayoutID != p.ID ||
			fs[0].Reason != "AC01 incorrect account number" || !fs[0].FlaggedAt.Equal(e.clock.Now()) || next != "" {
			t.Fatalf("flags after a return: %+v, next %q", fs, next)
		}
		if fs, _ := pageOf(t, e, p.ID); len(fs) != 0 {
			t.Errorf("the page after the only flagged supplier lists %+v", fs)
		}
		full, next, err := e.svc.OpenPayoutFlagsPage(e.ctx, e.admin, "", 1)
		if err != nil || len(full) != 1 || next != p.ID {
			t.Errorf("a full page of one: %+v, next %q, %v", full, next, err)
		}
		must(e.svc.ClearPayoutFlag(e.ctx, e.admin, e.key(), e.supplier.OrgID))
		if fs, _ := pageOf(t, e, ""); len(fs) != 0 {
			t.Errorf("a cleared flag is listed: %+v", fs)
		}
	})
}

func pageOf(t *testing.T, e *env, after string) ([]trade.PayoutAccountFlag, string) {
	t.Helper()
	fs, next, err := e.svc.OpenPayoutFlagsPage(e.ctx, e.admin, after, 10)
	if err != nil {
		t.Fatal(err)
	}
	return fs, next
}
