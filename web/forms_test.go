package web

import (
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/fault"
)

// TestRemapIndex ensures a domain error about the n-th filled-in row lands on the form row it
// came from.
func TestRemapIndex(t *testing.T) {
	rows := []int{0, 2, 4}
	for _, tc := range []struct{ in, want string }{
		{"line_items[1].quantity", "line_items[2].quantity"},
		{"line_items[2]", "line_items[4]"},
		{"line_items[0].unit_price", "line_items[0].unit_price"},
		{"line_items[7].unit", "line_items[7].unit"}, // out of range: left alone
		{"line_items", "line_items"},
		{"ship_by", "ship_by"},
		{"quality_requirements[1].attribute", "quality_requirements[1].attribute"},
	} {
		if got := remapIndex(tc.in, "line_items", rows); got != tc.want {
			t.Errorf("remapIndex(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestSetError ensures domain errors go next to their field, refusals without a field to the
// top of the form (or to the field they are about), and internal errors nowhere.
func TestSetError(t *testing.T) {
	f := newForm(nil)
	if !f.setError(fault.FieldErr("ship_by", "ship_by_in_past", "the shipping date cannot be in the past")) ||
		f.Err("ship_by") != "The shipping date cannot be in the past." {
		t.Errorf("field error: %q", f.Err("ship_by"))
	}
	f = newForm(nil)
	f.setError(fault.New(fault.Conflict, "supplier_not_eligible", "X cannot receive Trade Assurance orders"))
	if f.Err("supplier_id") == "" {
		t.Error("supplier_not_eligible not placed at the supplier")
	}
	f = newForm(nil)
	f.setError(fault.New(fault.Conflict, "payment_pending", "instructions are out"))
	if f.Error != "Instructions are out." {
		t.Errorf("form error %q", f.Error)
	}
	if newForm(nil).setError(fault.New(fault.Internal, "x", "y")) {
		t.Error("an internal error was shown to the person")
	}
}

// TestFormat ensures the display helpers: grouped money, plain-language durations, IDs.
func TestFormat(t *testing.T) {
	if got := formatMoney(1_160_000, "USD"); got != "USD 11,600.00" {
		t.Errorf("formatMoney = %q", got)
	}
	if got := formatMoney(500, "JPY"); got != "JPY 500" {
		t.Errorf("formatMoney JPY = %q", got)
	}
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for d, want := range map[time.Duration]string{60 * 24 * time.Hour: "in 60 days", 3 * time.Hour: "in 3 hours",
		-26 * time.Hour: "26 hours ago", -72 * time.Hour: "3 days ago", 10 * time.Second: "now", time.Minute: "in 1 minute"} {
		if got := until(now, now.Add(d)); got != want {
			t.Errorf("until(%v) = %q, want %q", d, got, want)
		}
	}
	for bp, want := range map[int]string{3000: "30%", 10000: "100%", 2550: "25.5%", 1: "0.01%"} {
		if got := bpLabel(bp); got != want {
			t.Errorf("bpLabel(%d) = %q", bp, got)
		}
	}
	if inputID("line_items[2].unit_price") != "f-line_items-2--unit_price" {
		t.Errorf("inputID = %q", inputID("line_items[2].unit_price"))
	}
}
