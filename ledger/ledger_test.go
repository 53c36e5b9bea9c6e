package ledger_test

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/ledger"
	"github.com/tradeassure/tradeassure/money"
)

var (
	usd = money.Currency("USD")
	eur = money.Currency("EUR")
	at  = time.Date(2025, 3, 3, 10, 0, 0, 0, time.UTC)

	rail     = ledger.Account{Kind: ledger.RailClearing, Owner: "tt_wire", Currency: usd}
	escrow   = ledger.Account{Kind: ledger.Escrow, Owner: "ord_1", Currency: usd}
	payable  = ledger.Account{Kind: ledger.SupplierPayable, Owner: "org_supplier", Currency: usd}
	fees     = ledger.Account{Kind: ledger.FeeRevenue, Owner: "card", Currency: usd}
	escrowEU = ledger.Account{Kind: ledger.Escrow, Owner: "ord_2", Currency: eur}
)

func entries(es ...ledger.Entry) []ledger.Entry { return es }

// TestValidate ensures a transfer is refused unless it has an ID and a code, a known currency,
// 2 to EntriesMax entries, no zero entry, every entry in its currency on a well-formed account,
// and entries that sum to exactly zero without overflow. SPEC Money
func TestValidate(t *testing.T) {
	ok := ledger.Transfer{ID: "tr_1", Code: "payment_received", Currency: usd, OrderID: "ord_1", At: at,
		Entries: entries(ledger.Entry{rail, 100}, ledger.Entry{escrow, -100})}
	many := func(n int) []ledger.Entry {
		var es []ledger.Entry
		for range n / 2 {
			es = append(es, ledger.Entry{rail, 1}, ledger.Entry{escrow, -1})
		}
		return es
	}
	tests := []struct {
		name string
		mod  func(t *ledger.Transfer)
		want string // a fragment of the error; "" for none
	}{
		{"balanced", func(t *ledger.Transfer) {}, ""},
		{"three legs", func(t *ledger.Transfer) {
			t.Entries = entries(ledger.Entry{rail, 103}, ledger.Entry{escrow, -100}, ledger.Entry{fees, -3})
		}, ""},
		{"no id", func(t *ledger.Transfer) { t.ID = "" }, "id and code are required"},
		{"no code", func(t *ledger.Transfer) { t.Code = "" }, "id and code are required"},
		{"unknown currency", func(t *ledger.Transfer) { t.Currency = "XXX" }, "unknown currency"},
		{"unbalanced", func(t *ledger.Transfer) { t.Entries[1].Amount = -99 }, "sum to 1"},
		{"one entry", func(t *ledger.Transfer) { t.Entries = t.Entries[:1] }, "1 entries"},
		{"no entries", func(t *ledger.Transfer) { t.Entries = nil }, "0 entries"},
		{"zero entry", func(t *ledger.Transfer) {
			t.Entries = entries(ledger.Entry{rail, 100}, ledger.Entry{escrow, -100}, ledger.Entry{fees, 0})
		}, "zero entry"},
		{"mixed currency", func(t *ledger.Transfer) { t.Entries[1].Account = escrowEU }, "another currency"},
		{"EntriesMax entries", func(t *ledger.Transfer) { t.Entries = many(ledger.EntriesMax) }, ""},
		{"too many entries", func(t *ledger.Transfer) {
			t.Entries = append(many(ledger.EntriesMax), ledger.Entry{rail, 1}, ledger.Entry{escrow, -1})
		}, "18 entries"},
		{"unknown kind", func(t *ledger.Transfer) { t.Entries[1].Account.Kind = "loan" }, "bad account"},
		{"no owner", func(t *ledger.Transfer) { t.Entries[1].Account.Owner = "" }, "bad account"},
		{"overflow", func(t *ledger.Transfer) {
			t.Entries = entries(ledger.Entry{rail, math.MaxInt64}, ledger.Entry{payable, 1}, ledger.Entry{escrow, math.MinInt64 + 1}, ledger.Entry{fees, -1})
		}, "overflow"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := ok
			tr.Entries = slices.Clone(ok.Entries)
			tc.mod(&tr)
			err := tr.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Validate() = %v, want an error with %q", err, tc.want)
			}
		})
	}
}

// TestBuilder ensures the builder posts each movement as a debit and an equal credit, skips zero
// amounts, refuses negative ones, and validates what it builds. SPEC Money
func TestBuilder(t *testing.T) {
	t.Run("movements", func(t *testing.T) {
		b := ledger.NewTransfer("tr_1", "payment_received", usd, "ord_1", at).Memo("TA12").
			Post(rail, escrow, 100).Post(rail, fees, 0).Post(rail, fees, 3)
		if b.Empty() {
			t.Fatal("Empty() after posting")
		}
		tr, err := b.Build()
		if err != nil {
			t.Fatal(err)
		}
		want := entries(ledger.Entry{rail, 100}, ledger.Entry{escrow, -100}, ledger.Entry{rail, 3}, ledger.Entry{fees, -3})
		if !slices.Equal(tr.Entries, want) || tr.Memo != "TA12" || tr.OrderID != "ord_1" || !tr.At.Equal(at) || tr.Code != "payment_received" {
			t.Errorf("transfer %+v", tr)
		}
	})
	t.Run("only zero amounts", func(t *testing.T) {
		b := ledger.NewTransfer("tr_2", "release", usd, "ord_1", at).Post(escrow, payable, 0)
		if !b.Empty() {
			t.Error("Empty() = false")
		}
		if _, err := b.Build(); err == nil {
			t.Error("built an empty transfer")
		}
	})
	t.Run("negative amount", func(t *testing.T) {
		_, err := ledger.NewTransfer("tr_3", "release", usd, "ord_1", at).Post(escrow, payable, -1).Post(escrow, payable, 5).Build()
		if err == nil || !strings.Contains(err.Error(), "negative posting") {
			t.Errorf("Build() = %v, want negative posting", err)
		}
	})
	t.Run("mixed currency", func(t *testing.T) {
		if _, err := ledger.NewTransfer("tr_4", "release", usd, "ord_1", at).Post(escrowEU, payable, 5).Build(); err == nil {
			t.Error("built a transfer across currencies")
		}
	})
}

// TestApplyNonNegative ensures applying a transfer takes no account below zero in its natural
// sign except the rail clearing accounts, which mirror the outside world; the balances are
// changed even when it reports an error. SPEC Money
func TestApplyNonNegative(t *testing.T) {
	for _, k := range ledger.Kinds {
		t.Run(string(k), func(t *testing.T) {
			a := ledger.Account{Kind: k, Owner: "x", Currency: usd}
			world := ledger.Account{Kind: ledger.RailClearing, Owner: "world", Currency: usd}
			// down moves 5 so that a's natural balance drops; up is the opposite movement.
			down := func(id string) ledger.Transfer {
				b := ledger.NewTransfer(id, "test", usd, "", at)
				if k.DebitNormal() {
					b.Post(world, a, 5)
				} else {
					b.Post(a, world, 5)
				}
				tr, err := b.Build()
				if err != nil {
					t.Fatal(err)
				}
				return tr
			}
			up := down("tr_up")
			for i := range up.Entries {
				up.Entries[i].Amount = -up.Entries[i].Amount
			}
			b := ledger.Balances{}
			err := b.Apply(down("tr_down"))
			if got := ledger.Natural(k, b[a.ID()]); got != -5 {
				t.Fatalf("natural balance %d, want -5: Apply changes the balances even on error", got)
			}
			var neg *ledger.NegativeError
			switch {
			case k.MayGoNegative() && err != nil:
				t.Errorf("Apply() = %v, want nil for %s", err, k)
			case !k.MayGoNegative() && (!errors.As(err, &neg) || !slices.Equal(neg.Accounts, []string{a.ID()})):
				t.Errorf("Apply() = %v, want a NegativeError naming only %s", err, a.ID())
			}
			b = ledger.Balances{}
			if err := b.Apply(up); err != nil {
				t.Fatalf("funding: %v", err)
			}
			if err := b.Apply(down("tr_down")); err != nil || b[a.ID()] != 0 {
				t.Errorf("after funding: %v, balance %d", err, b[a.ID()])
			}
		})
	}
	for _, k := range ledger.Kinds {
		if k.MayGoNegative() != (k == ledger.RailClearing) {
			t.Errorf("%s.MayGoNegative() = %v: only rail clearing may", k, k.MayGoNegative())
		}
		if want := k == ledger.RailClearing || k == ledger.SupplierReceivable || k == ledger.LoanReceivable ||
			k == ledger.CreditLoss; k.DebitNormal() != want {
			t.Errorf("%s.DebitNormal() = %v", k, k.DebitNormal())
		}
	}
}

// TestNatural ensures balances read in each kind's natural sign. SPEC Money
func TestNatural(t *testing.T) {
	if ledger.Natural(ledger.RailClearing, 7) != 7 || ledger.Natural(ledger.SupplierReceivable, 7) != 7 {
		t.Error("debit-normal kinds keep the sign")
	}
	if ledger.Natural(ledger.Escrow, -7) != 7 || ledger.Natural(ledger.GuaranteeFund, 7) != -7 {
		t.Error("credit-normal kinds flip the sign")
	}
}

// TestLoanBookKinds ensures the Pay Later loan book posts on the ledger: a draw debits the
// loan's receivable and credits the lender's funding, both positive in their natural sign; a
// repayment reverses it; neither may go below zero, and the book balances. R11
func TestLoanBookKinds(t *testing.T) {
	rec := ledger.Account{Kind: ledger.LoanReceivable, Owner: "loan_1", Currency: usd}
	fund := ledger.Account{Kind: ledger.LenderFunding, Owner: "builtin", Currency: usd}
	if !rec.Kind.DebitNormal() || fund.Kind.DebitNormal() || rec.Kind.MayGoNegative() || fund.Kind.MayGoNegative() {
		t.Fatal("loan_receivable is debit-normal, lender_funding credit-normal, neither may go negative")
	}
	draw, err := ledger.NewTransfer("plb_1", "pay_later_draw", usd, "ord_1", at).Post(rec, fund, 10_000_00).Build()
	if err != nil {
		t.Fatal(err)
	}
	pay, err := ledger.NewTransfer("plb_2", "pay_later_payment", usd, "ord_1", at).Post(fund, rec, 1_766_67).Build()
	if err != nil {
		t.Fatal(err)
	}
	b := ledger.Balances{}
	for _, tr := range []ledger.Transfer{draw, pay} {
		if err := b.Apply(tr); err != nil {
			t.Fatal(err)
		}
	}
	if got := ledger.Natural(rec.Kind, b[rec.ID()]); got != 8_233_33 {
		t.Errorf("receivable %d, want 823333", got)
	}
	if got := ledger.Natural(fund.Kind, b[fund.ID()]); got != 8_233_33 {
		t.Errorf("funding %d, want 823333", got)
	}
	if v := ledger.CheckBalances(b); len(v) != 0 {
		t.Errorf("violations %v", v)
	}
	over, _ := ledger.NewTransfer("plb_3", "pay_later_payment", usd, "ord_1", at).Post(fund, rec, 8_233_34).Build()
	if err := b.Apply(over); err == nil {
		t.Error("a repayment above the receivable was accepted")
	}
}

// TestCheckBalances ensures the whole-book invariants: every currency sums to zero, no account
// that must not go negative has, and every account ID parses. SPEC Money
func TestCheckBalances(t *testing.T) {
	tests := []struct {
		name string
		b    ledger.Balances
		want []string // rules of the violations, in order
	}{
		{"empty", ledger.Balances{}, nil},
		{"balanced", ledger.Balances{rail.ID(): 100, escrow.ID(): -100}, nil},
		{"rail negative is fine", ledger.Balances{rail.ID(): -100, "supplier_receivable:org_supplier:USD": 100}, nil},
		{"escrow negative", ledger.Balances{rail.ID(): -100, escrow.ID(): 100}, []string{"negative_balance"}},
		{"currency unbalanced", ledger.Balances{rail.ID(): 100, escrow.ID(): -99, escrowEU.ID(): -5}, []string{"currency_unbalanced", "currency_unbalanced"}},
		{"bad account", ledger.Balances{"nonsense": 1}, []string{"bad_account"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, v := range ledger.CheckBalances(tc.b) {
				got = append(got, v.Rule)
				if v.String() != v.Rule+": "+v.Detail {
					t.Errorf("String() = %q", v.String())
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("violations %v, want %v", got, tc.want)
			}
		})
	}
}

// TestCheckTransfers ensures transfers read back from storage are checked again: a duplicate ID
// and an unbalanced transfer are reported, and the balances they add up to are returned.
// SPEC Money
func TestCheckTransfers(t *testing.T) {
	a, _ := ledger.NewTransfer("tr_1", "payment_received", usd, "ord_1", at).Post(rail, escrow, 100).Build()
	r, _ := ledger.NewTransfer("tr_2", "release", usd, "ord_1", at).Post(escrow, payable, 60).Build()
	bad := ledger.Transfer{ID: "tr_3", Code: "broken", Currency: usd, Entries: entries(ledger.Entry{rail, 5}, ledger.Entry{escrow, -4})}
	b, v := ledger.CheckTransfers([]ledger.Transfer{a, r})
	if len(v) != 0 || b[rail.ID()] != 100 || b[escrow.ID()] != -40 || b[payable.ID()] != -60 {
		t.Errorf("balances %v violations %v", b, v)
	}
	_, v = ledger.CheckTransfers([]ledger.Transfer{a, r, a, bad})
	var rules []string
	for _, x := range v {
		rules = append(rules, x.Rule+":"+strings.Fields(x.Detail)[0])
	}
	if !slices.Equal(rules, []string{"duplicate_transfer:tr_1", "transfer_unbalanced:transfer"}) {
		t.Errorf("violations %v", v)
	}
}

// TestParseAccountID ensures every account ID parses back to its account, owners may contain
// colons, and malformed IDs are refused. SPEC Money
func TestParseAccountID(t *testing.T) {
	for _, k := range ledger.Kinds {
		for _, owner := range []string{"platform", "ord_01HX", "org:with:colons"} {
			a := ledger.Account{Kind: k, Owner: owner, Currency: eur}
			got, err := ledger.ParseAccountID(a.ID())
			if err != nil || got != a || a.String() != a.ID() {
				t.Errorf("ParseAccountID(%q) = %+v, %v", a.ID(), got, err)
			}
		}
	}
	for _, s := range []string{"", "escrow", "escrow:USD", "escrow::USD", "escrow:o:", ":o:USD", "loan:o:USD", "escrow:o:XXX", "escrow:o:usd"} {
		if a, err := ledger.ParseAccountID(s); err == nil {
			t.Errorf("ParseAccountID(%q) = %+v, want an error", s, a)
		}
	}
}
