package web_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/tradeassure/tradeassure/trade"
)

// tabStopsMax bounds how many times tabTo presses Tab looking for one element: more stops than
// any page has, so a target that Tab never reaches fails instead of looping.
const tabStopsMax = 150

// focusStopJS describes the focused element: its path, whether it matches the selector %s, and
// how it shows focus (its outline or box shadow; "" when it shows none, or does not match
// :focus-visible, as a keyboard user's focus must). When the focus is on a Tab stop inside the
// element's own user-agent shadow tree — Chromium's calendar button of a date input — the
// element is focused within but matches neither :focus nor :focus-visible, and no script reads
// that stop's style: inner says so, for innerStop to read it through the DevTools protocol.
const focusStopJS = `(() => {
	` + namesJS + `
	const el = document.activeElement;
	if (!el || el === document.body || el === document.documentElement) return { path: "", match: false, shown: "" };
	el.getAnimations().forEach(a => a.finish()); // read the focus style as it settles, not a frame of its fade-in
	const inner = !el.matches(":focus") && el.matches(":focus-within") && !el.shadowRoot;
	const cs = getComputedStyle(el);
	const outline = cs.outlineStyle !== "none" && parseFloat(cs.outlineWidth) > 0;
	const shadow = cs.boxShadow && cs.boxShadow !== "none";
	const shown = inner || !el.matches(":focus-visible") ? "" : ((outline ? "outline " + cs.outlineWidth + " " + cs.outlineStyle : "") + (shadow ? " box-shadow " + cs.boxShadow : "")).trim();
	return { path: path(el), match: !inner && el.matches(%s), shown: shown, inner: inner, id: el.id };
})()`

type focusStop struct {
	Path  string `json:"path"`
	Match bool   `json:"match"`
	Shown string `json:"shown"`
	Inner bool   `json:"inner"` // the focus is on a Tab stop inside the element's user-agent shadow tree
	ID    string `json:"id"`
}

// press sends one key to the focused element, as a person at the keyboard would: "\t" (Tab),
// kb.Enter, " " (Space), or text to type.
func (p *person) press(what, keys string, opts ...chromedp.KeyOption) {
	p.t.Helper()
	p.do(what, chromedp.KeyEvent(keys, opts...))
}

// tabTo presses Tab (Shift+Tab when back) until the element matching sel has the focus,
// checking at every stop on the way that the focused element shows it (WCAG 2.4.7), and returns
// the stops. It fails the test if the element is not reached within tabStopsMax stops.
func (p *person) tabTo(sel string, back bool) []focusStop {
	p.t.Helper()
	var opts []chromedp.KeyOption
	dir := "Tab"
	if back {
		opts, dir = append(opts, chromedp.KeyModifiers(chromedp.ModifierShift)), "Shift+Tab"
	}
	var stops []focusStop
	var paths []string
	for range tabStopsMax {
		p.press(dir+" to "+sel, "\t", opts...)
		s := p.focusStop(sel)
		if s.Path != "" && s.Shown == "" {
			p.t.Errorf("%s: focus is not visible on %s (reached by %s on the way to %s)", p.role, s.Path, dir, sel)
		}
		stops, paths = append(stops, s), append(paths, s.Path)
		if s.Match {
			return stops
		}
	}
	p.t.Fatalf("%s: %s never reaches %s; the stops were:\n  %s", p.role, dir, sel, strings.Join(paths, "\n  "))
	return nil
}

// focusStop describes where the focus is now and how it shows (focusStopJS), reading a stop
// inside an element's user-agent shadow tree with innerStop.
func (p *person) focusStop(sel string) focusStop {
	p.t.Helper()
	q, _ := json.Marshal(sel)
	s := run(p, "focus", chromedp.Evaluate[focusStop](fmt.Sprintf(focusStopJS, q)))
	if s.Inner {
		s = p.innerStop(s)
	}
	return s
}

// loginByKeyboard logs in with the keyboard only: Tab to the email, type it, Tab to the
// password, type it, back with Shift+Tab to the email and forward again, and Enter.
func (p *person) loginByKeyboard() {
	p.t.Helper()
	p.open("/login")
	p.tabTo("#f-email", false)
	p.press("type the email", p.w.emails[p.role])
	p.tabTo("#f-password", false)
	p.press("type the password", password)
	p.tabTo("#f-email", true)
	p.tabTo("#f-password", false)
	p.press("submit with Enter", kb.Enter)
	p.do("wait for the dashboard", chromedp.WaitVisible(chromedp.CSS("header .who")))
	p.check()
}

// TestBrowserKeyboard ensures everything works from the keyboard alone: each step below uses
// only Tab, Shift+Tab, Enter and Space (and typing into fields) — no click — and every stop
// Tab makes on the way shows its focus. The buyer logs in, opens the supplier directory with
// Space on a link drawn as a button, starts an order and Tabs across the checkout's native date
// input — its calendar button too — and back to the menu, goes back to the dashboard, opens an
// order, chooses a
// payment method and asks for payment instructions (R10), and books a pre-shipment inspection
// (R15). The arbiter logs in, opens the case file from the queue and decides the dispute with
// a full refund and written reasons (R18).
func TestBrowserKeyboard(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { keyboard(t, newWorld(t, sqliteURL(t))) })
	t.Run("postgres", func(t *testing.T) { keyboard(t, newWorld(t, postgresURL(t))) })
}

func keyboard(t *testing.T, w *world) {
	buyerActor, sup := w.actors["buyer"], w.actors["supplier"]
	c := w.contract(false)
	o, err := w.svc.Place(w.ctx, buyerActor, w.key(), trade.Place{SupplierID: sup.OrgID, Currency: "USD", ShipBy: c.ShipBy,
		ComplianceConfirmed: true, Contract: &c})
	w.must("place", err)
	o, err = w.svc.Do(w.ctx, sup, w.key(), o.ID, trade.ConfirmContract{Hash: o.Proposal.Hash})
	w.must("confirm", err)
	escalated := w.order(trade.Escalated)

	ctx := browser(t)
	buyer, arbiter := w.person(ctx, "buyer"), w.person(ctx, "arbiter")

	buyer.loginByKeyboard()
	// A link drawn as a button answers Space, as a button does.
	buyer.tabTo(`main a[href="/suppliers"][role="button"]`, false)
	buyer.press("Space on Place an order", " ")
	buyer.do("the directory", waitText("Every supplier listed is eligible"))
	buyer.check()
	// The checkout's ship-by date is a native date input: Tab goes through its month, day and
	// year, then Chromium's calendar button, and the focus shows on each, the button too.
	buyer.tabTo(`main a[href="/orders/new?supplier=`+sup.OrgID+`"]`, false)
	buyer.press("Enter on Start an order", kb.Enter)
	buyer.do("the checkout", chromedp.WaitVisible(chromedp.CSS("#f-ship_by")))
	buyer.check()
	buyer.tabTo(`#f-ship_by`, false)
	picker := func(stops []focusStop) bool {
		return slices.ContainsFunc(stops, func(s focusStop) bool {
			return strings.HasSuffix(s.Path, "#f-ship_by[name=\"ship_by\"]::"+pickerPseudo)
		})
	}
	if !picker(buyer.tabTo(`#f-payment_terms-initial_bp`, false)) {
		t.Error("Tab from the ship-by date to the payment terms did not stop on the calendar button")
	}
	if !picker(buyer.tabTo(`header a[href="/"]:not(.brand)`, true)) {
		t.Error("Shift+Tab from the payment terms back to the menu did not stop on the calendar button")
	}
	buyer.press("Enter on Dashboard", kb.Enter)
	buyer.do("the dashboard", waitText("Your orders"))
	buyer.tabTo(`main a[href="/orders/`+o.ID+`"]`, false)
	buyer.press("Enter on the order", kb.Enter)
	buyer.do("the order page", waitText("Send the initial payment"))
	buyer.check()
	buyer.stateIs(trade.Confirmed)

	// The first method of the fee table is the wire: Tab into the group focuses it, Space
	// chooses it, Tab reaches the form's button, Enter sends the form.
	buyer.tabTo(`#action-pay input[name="method"]`, false)
	if id := run(buyer, "method", chromedp.Evaluate[string](`document.activeElement.id`)); id != "m-tt_wire" {
		t.Fatalf("Tab into the payment methods focuses %q, want the wire first", id)
	}
	buyer.press("Space on the wire", " ")
	if !run(buyer, "wire chosen", chromedp.Evaluate[bool](`document.getElementById("m-tt_wire").checked`)) {
		t.Fatal("Space did not choose the wire")
	}
	buyer.tabTo(`#action-pay button[type=submit]`, false)
	buyer.press("Enter on Ask for payment instructions", kb.Enter)
	buyer.do("payment instructions", waitText("Payment instructions issued."))
	buyer.check()
	buyer.has("instructions", "Send USD 3,480.00") // 30% of 11,600.00; the banks' charges are not collected

	// The inspection company is chosen by typing the start of its name in the focused select.
	buyer.tabTo(`#f-inspector_id`, false)
	buyer.press("type the inspection company", "Asia")
	if v := run(buyer, "inspector", chromedp.Evaluate[string](`document.getElementById("f-inspector_id").value`)); v != w.actors["inspector"].OrgID {
		t.Fatalf("typing chose inspector %q", v)
	}
	buyer.tabTo(`#action-book-inspection button[type=submit]`, false)
	buyer.press("Space on Book inspection", " ")
	buyer.do("inspection booked", waitText("Inspection booked."))
	buyer.check()
	got := mustOrder(w, "/orders/"+o.ID)
	if got.Inspection == nil || got.Inspection.InspectorID != w.actors["inspector"].OrgID || len(got.Payments) != 1 ||
		got.Payments[0].Method != "tt_wire" {
		t.Errorf("after the keyboard steps the order has inspection %+v and payments %+v", got.Inspection, got.Payments)
	}

	arbiter.loginByKeyboard()
	arbiter.tabTo(`main a[href="/orders/`+escalated.ID+`/case"]`, false)
	arbiter.press("Enter on the case file", kb.Enter)
	arbiter.do("the case file", waitText("Decide the dispute"))
	arbiter.check()
	arbiter.tabTo(`#f-outcome-full`, false)
	arbiter.press("Space on Full refund", " ")
	arbiter.tabTo(`#f-reasons`, false)
	arbiter.press("type the reasons", "Fabric weight 168 g/m² against 200 ± 5%; inspection booked before production.")
	arbiter.tabTo(`#action-decide button[type=submit]`, false)
	arbiter.press("Enter on Record decision", kb.Enter)
	arbiter.do("decision recorded", waitText("Decision recorded."))
	arbiter.check()
	if s := mustOrder(w, "/orders/"+escalated.ID).State; s != trade.Refunded {
		t.Errorf("after the arbiter's decision the order is %s, want refunded", s)
	}
}
