package store

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/trade"
)

// TestOpenPayoutFlagsSQLite and TestOpenPayoutFlagsPostgres run testOpenPayoutFlags on both
// databases. R12
func TestOpenPayoutFlagsSQLite(t *testing.T) { testOpenPayoutFlags(t, openSQLiteT(t)) }

func TestOpenPayoutFlagsPostgres(t *testing.T) { testOpenPayoutFlags(t, openPostgresT(t, "")) }

// testOpenPayoutFlags: the open flags are listed one per supplier, oldest flagged first, a page
// at a time after a cursor naming the last flag's payout (one cleared since still places the
// page); a cleared flag is not listed, and a supplier flagged again after a clearing is listed
// with its new flag. R12
func testOpenPayoutFlags(t *testing.T, db *DB) {
	write(t, db, func(tx escrow.Tx) error {
		pt := payoutTx(t, tx)
		for i, sup := range []string{"sup_d", "sup_b", "sup_a", "sup_c"} {
			if err := pt.FlagPayoutAccount(ctx, trade.PayoutAccountFlag{SupplierID: sup, PayoutID: fmt.Sprintf("po_%d", i),
				Reason: "AC04 closed account number", FlaggedAt: t0.Add(time.Duration(i) * time.Hour)}); err != nil {
				return err
			}
		}
		f, err := pt.LockPayoutFlag(ctx, "sup_c")
		if err != nil {
			return err
		}
		at := t0.Add(5 * time.Hour)
		f.ClearedAt, f.ClearedBy = &at, "admin:ops"
		if err := pt.ClearPayoutFlag(ctx, f); err != nil {
			return err
		}
		// sup_b is flagged again after its flag was cleared: only the new flag is open.
		f, err = pt.LockPayoutFlag(ctx, "sup_b")
		if err != nil {
			return err
		}
		f.ClearedAt, f.ClearedBy = &at, "admin:ops"
		if err := pt.ClearPayoutFlag(ctx, f); err != nil {
			return err
		}
		return pt.FlagPayoutAccount(ctx, trade.PayoutAccountFlag{SupplierID: "sup_b", PayoutID: "po_9", Reason: "AC01", FlaggedAt: at})
	})
	list := func(after string, limit int) []string {
		t.Helper()
		var out []string
		read(t, db, func(r escrow.Reader) error {
			fs, err := r.(escrow.PayoutFlagLister).OpenPayoutFlags(ctx, after, limit)
			for _, f := range fs {
				if f.ClearedAt != nil {
					t.Errorf("a cleared flag is listed: %+v", f)
				}
				out = append(out, f.SupplierID+"/"+f.PayoutID)
			}
			return err
		})
		return out
	}
	if got, want := list("", 10), []string{"sup_d/po_0", "sup_a/po_2", "sup_b/po_9"}; !slices.Equal(got, want) {
		t.Errorf("open flags %v, want %v", got, want)
	}
	if got, want := list("", 2), []string{"sup_d/po_0", "sup_a/po_2"}; !slices.Equal(got, want) {
		t.Errorf("the first page of two %v, want %v", got, want)
	}
	if got, want := list("po_2", 2), []string{"sup_b/po_9"}; !slices.Equal(got, want) {
		t.Errorf("the page after po_2 %v, want %v", got, want)
	}
	if got, want := list("po_1", 2), []string{"sup_a/po_2", "sup_b/po_9"}; !slices.Equal(got, want) {
		t.Errorf("the page after po_1, cleared since, %v, want %v", got, want)
	}
	if got := list("po_9", 2); len(got) != 0 {
		t.Errorf("the page after the last %v, want none", got)
	}
	if got := list("po_nope", 2); len(got) != 0 {
		t.Errorf("a cursor naming no flag gives %v, want none", got)
	}
}
