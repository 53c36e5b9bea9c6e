package web_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/trade"
	"github.com/tradeassure/tradeassure/web"
)

const opsPath = "/admin/operations"

// requestedPayout releases an order and has an admin pay the supplier out. No payout rail runs
// in the tests' world, as on a server without the sandbox: the payout waits, requested, for the
// bank's answer.
func (w *world) requestedPayout() trade.Payout {
	w.t.Helper()
	w.released()
	p, err := w.svc.PayOut(w.ctx, w.admin, w.key(), w.supplierID(), "USD")
	w.must("pay out", err)
	if p.Status != trade.PayoutRequested {
		w.t.Fatalf("payout %s, want requested", p.Status)
	}
	return p
}

// payoutSentThenReturned gives the operations page something in two queues, as the screenshots
// show it: the supplier's payout waiting for the bank is recorded sent, the balance owed since is
// paid out (and waits for the bank's answer), then the bank returns the first payout, which
// flags the supplier's account. R12
func (w *world) payoutSentThenReturned() {
	w.t.Helper()
	ps, err := w.svc.Payouts(w.ctx, w.admin, escrow.PayoutFilter{SupplierID: w.supplierID(), Status: trade.PayoutRequested})
	w.must("payouts", err)
	if len(ps) != 1 {
		w.t.Fatalf("%d payouts waiting, want 1", len(ps))
	}
	first, day := ps[0], w.clock.Now()
	_, err = w.svc.RecordPayoutResult(w.ctx, w.admin, w.key(), first.ID, trade.PayoutResult{Outcome: trade.OutcomeSent,
		Amount: money.New(first.Sent, first.Currency), BankReference: "FT26063K7QZ", ValueDate: day})
	w.must("record the first payout sent", err)
	_, err = w.svc.PayOut(w.ctx, w.admin, w.key(), w.supplierID(), "USD")
	w.must("pay out the balance", err)
	_, err = w.svc.RecordPayoutResult(w.ctx, w.admin, w.key(), first.ID, trade.PayoutResult{Outcome: trade.OutcomeReturned,
		Amount: money.New(first.Sent, first.Currency), ValueDate: day, Reason: "AC04 closed account number"})
	w.must("record the first payout returned", err)
}

// opsPost posts the form of the operations page (as it is now) that posts to action, with its
// idempotency key and v, and returns the answer and the key it used.
func opsPost(t *testing.T, c *client, action string, v url.Values) (response, string) {
	t.Helper()
	page := c.get(opsPath)
	if page.status != http.StatusOK {
		t.Fatalf("GET %s: %d", opsPath, page.status)
	}
	key := formKey(t, page.body, action)
	v.Set("idempotency_key", key)
	return c.post(action, v), key
}

// errorNextTo fails the test unless the page shows msg next to the input with the element ID id.
func errorNextTo(t *testing.T, what string, res response, id, msg string) {
	t.Helper()
	body := html.UnescapeString(res.body)
	if !strings.Contains(body, `<small id="`+id+`-error" class="field-error">`+msg+`</small>`) {
		t.Errorf("%s: %q is not next to #%s (status %d)", what, msg, id, res.status)
	}
	if !strings.Contains(body, `id="`+id+`"`) || !strings.Contains(body, `aria-describedby="`+id+`-error"`) {
		t.Errorf("%s: #%s is not described by its error", what, id)
	}
}

// TestOperationsByRole ensures only admins have the operations page and its forms: the menu
// links it for them; every other role gets 403 for the page and for each form, as on the other
// admin pages, and an admin posting about a payout, supplier, debit or lender request that does
// not exist gets 404.
func TestOperationsByRole(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, w *world) {
		sup := w.supplierID()
		forms := []string{opsPath + "/payouts/po_x/sent", opsPath + "/payouts/po_x/returned", opsPath + "/flags/" + sup + "/clear",
			opsPath + "/bank-debits/pld_x/result", opsPath + "/bank-debits/pld_x/retry", opsPath + "/lender-requests/plr_x/retry"}
		admin := w.login("admin")
		page := admin.get(opsPath)
		if page.status != http.StatusOK {
			t.Fatalf("admin GET %s: %d", opsPath, page.status)
		}
		shows(t, "the admin's operations page", page, `<a href="/admin/operations">Operations</a>`,
			"Supplier payouts waiting for the bank's answer</a> (0)", "No payout waits for the bank's answer.",
			"No payout account is flagged.", "No debit needs attention.", "No debit waits for the bank's answer.",
			"No lender request needs attention.")
		for _, role := range []string{"buyer", "supplier", "inspector", "arbiter"} {
			c := w.login(role)
			if res := c.get(opsPath); res.status != http.StatusForbidden {
				t.Errorf("%s GET %s: %d, want 403", role, opsPath, res.status)
			}
			if strings.Contains(c.get("/").body, `href="/admin/operations"`) {
				t.Errorf("the %s's menu links the operations page", role)
			}
			for _, action := range forms {
				res := c.post(action, url.Values{"idempotency_key": {strings.Repeat("a", 32)}, "checked": {"yes"}, "paid": {"yes"},
					"amount": {"1.00"}, "bank_reference": {"FT1"}, "value_date": {"2026-03-02"}, "reason": {"AC04"}})
				if res.status != http.StatusForbidden {
					t.Errorf("%s POST %s: %d, want 403", role, action, res.status)
				}
			}
		}
		key := freshKey(t, w, admin)
		for _, action := range append(forms[:2:2], forms[3:]...) {
			res := admin.post(action, url.Values{"idempotency_key": {key}, "paid": {"yes"}, "amount": {"1.00"},
				"bank_reference": {"FT1"}, "value_date": {"2026-03-02"}, "reason": {"AC04"}})
			if res.status != http.StatusNotFound {
				t.Errorf("admin POST %s: %d, want 404", action, res.status)
			}
		}
		if res := admin.post(opsPath+"/flags/sup_none/clear", url.Values{"idempotency_key": {key}, "checked": {"yes"}}); res.status != http.StatusNotFound {
			t.Errorf("clearing the flag of a supplier that does not exist: %d, want 404", res.status)
		}
		if res := admin.post(opsPath+"/payouts/po_x/lost", url.Values{"idempotency_key": {key}}); res.status != http.StatusNotFound {
			t.Errorf("an answer that is not one: %d, want 404", res.status)
		}
	})
}

// TestOperationsPayoutSent ensures an admin records a payout as sent from the operations page,
// which lists it with what the bank's report is checked against — the supplier, the amount, the
// reference on the wire, when it was requested — and says no payout rail runs on this server. A
// wrong amount, a missing bank reference, a date that cannot be read or one further ahead than
// the domain takes are each refused next to their field with everything typed kept; the
// corrected form, sent twice, records the payout once; it leaves the queue, and the supplier sees
// it sent with the bank's reference. R12
func TestOperationsPayoutSent(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, w *world) {
		p := w.requestedPayout()
		admin := w.login("admin")
		page := admin.get(opsPath)
		shows(t, "the queue", page, "No payout rail or bank adapter runs on this server: the bank's answers are yours to record from its report.",
			"No payout rail runs on this server", "USD 11,600.00 to", "Ningbo Sunrise Garments Co.",
			p.Reference, "An admin (Pay out now)", "Supplier payouts waiting for the bank's answer</a> (1)", `id="payout-`+p.ID+`"`)
		hides(t, "the queue", page, "Sandbox:", "Payout rail asked")
		action := opsPath + "/payouts/" + p.ID + "/sent"
		id := "f-sent-" + p.ID + "-"
		today := w.clock.Now().Format(time.DateOnly)
		for _, tc := range []struct {
			name      string
			amount    string
			reference string
			date      string
			field     string
			msg       string
		}{
			{"wrong amount", "11,500.00", "FT26061ABC", today, "amount", "The payout sends USD 11,600.00, not USD 11,500.00: check the amount on the bank's report."},
			{"no amount", "", "FT26061ABC", today, "amount", "Give the amount in USD, like 11600.00."},
			{"letters in the amount", "11600.OO", "FT26061ABC", today, "amount", "Give the amount in USD with digits and one point only, like 11600.00."},
			{"no bank reference", "11600.00", " ", today, "bank_reference", "Give the bank's reference of the wire, as its report shows it."},
			{"bank reference too long", "11600.00", strings.Repeat("F", 36), today, "bank_reference",
				"Give the bank's reference of the wire: 1 to 35 printable characters."},
			{"no value date", "11600.00", "FT26061ABC", "", "value_date", "Give the date, as the bank's report shows it."},
			{"a date that is not one", "11600.00", "FT26061ABC", "04/03/2026", "value_date", "Give the date as YYYY-MM-DD, like 2026-03-04."},
			{"too far ahead", "11600.00", "FT26061ABC", w.clock.Now().AddDate(0, 0, 8).Format(time.DateOnly), "value_date",
				"The value date is more than 7 days ahead."},
			{"before it was requested", "11600.00", "FT26061ABC", w.clock.Now().AddDate(0, 0, -1).Format(time.DateOnly), "value_date",
				"The value date is before the payout was requested (" + today + ")."},
		} {
			res, _ := opsPost(t, admin, action, url.Values{"amount": {tc.amount}, "bank_reference": {tc.reference}, "value_date": {tc.date}})
			if res.status != http.StatusUnprocessableEntity {
				t.Fatalf("%s: %d, want 422", tc.name, res.status)
			}
			errorNextTo(t, tc.name, res, id+tc.field, tc.msg)
			shows(t, tc.name+": the input kept", res, `id="`+id+`amount" name="amount" type="text" value="`+tc.amount+`"`,
				`name="value_date" type="text" value="`+tc.date+`"`, `href="#payout-`+p.ID+`"`)
			if got, err := w.svc.Payout(w.ctx, w.admin, p.ID); err != nil || got.Status != trade.PayoutRequested {
				t.Fatalf("%s: the payout is %s (%v)", tc.name, got.Status, err)
			}
		}
		form := url.Values{"amount": {"11,600.00"}, "bank_reference": {" FT26061ABC "}, "value_date": {today}}
		res, key := opsPost(t, admin, action, form)
		if res.status != http.StatusSeeOther || res.header.Get("Location") != opsPath {
			t.Fatalf("record as sent: %d to %q", res.status, res.header.Get("Location"))
		}
		form.Set("idempotency_key", key)
		if again := admin.post(action, form); again.status != http.StatusSeeOther { // a double submission
			t.Fatalf("the same form again: %d", again.status)
		}
		got, err := w.svc.Payout(w.ctx, w.admin, p.ID)
		w.must("payout", err)
		if got.Status != trade.PayoutSent || got.BankReference != "FT26061ABC" || len(got.TransferIDs) != 2 ||
			!strings.HasPrefix(got.RecordedBy, "admin:") {
			t.Fatalf("after recording: %+v", got)
		}
		after := admin.get(opsPath)
		shows(t, "after recording", after, "Payout #"+p.ID[len(p.ID)-8:]+" of USD 11,600.00 to Ningbo Sunrise Garments Co. recorded as sent on 2 Mar 2026, bank reference FT26061ABC.",
			"No payout waits for the bank's answer.")
		shows(t, "the supplier's payouts", w.login("supplier").get("/payouts"), "Sent on 2 Mar 2026, bank reference FT26061ABC")
		rep, err := w.svc.CheckLedger(w.ctx)
		w.must("ledger check", err)
		if !rep.OK() {
			t.Fatalf("ledger: %v", rep.Violations)
		}
	})
}

// TestOperationsPayoutReturned ensures an admin records a payout the bank returned: without the
// bank's reason it is refused next to the reason, the return form kept open; with it the money
// is owed to the supplier again and its account is flagged, which the supplier's page says and
// the flagged accounts list shows. Clearing the flag needs the admin to confirm the bank details
// were checked (refused next to the box otherwise); cleared — twice, applied once — the account
// leaves the list and the automatic payout is scheduled. Clearing it again with a new form is
// refused at the top of the page, as the account is no longer listed. R12
func TestOperationsPayoutReturned(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, w *world) {
		p := w.requestedPayout()
		sup := w.supplierID()
		admin := w.login("admin")
		action := opsPath + "/payouts/" + p.ID + "/returned"
		today := w.clock.Now().Format(time.DateOnly)
		res, _ := opsPost(t, admin, action, url.Values{"amount": {"11600.00"}, "value_date": {today}})
		if res.status != http.StatusUnprocessableEntity {
			t.Fatalf("a return without its reason: %d", res.status)
		}
		errorNextTo(t, "no reason", res, "f-ret-"+p.ID+"-reason", "Say why the bank returned it, as its report says (for example: AC04 closed account number).")
		shows(t, "the return form stays open", res, `<details class="answer" open>`)
		res, _ = opsPost(t, admin, action, url.Values{"amount": {"11600.00"}, "value_date": {today}, "reason": {"AC04 closed account number"}})
		if res.status != http.StatusSeeOther {
			t.Fatalf("record as returned: %d", res.status)
		}
		page := admin.get(opsPath)
		shows(t, "after the return", page, "recorded as returned by the bank (AC04 closed account number)",
			"Payout accounts flagged after a return</a> (1)", `id="flag-`+sup+`"`, "The bank said", "AC04 closed account number",
			p.Reference, "No payout waits for the bank's answer.")
		shows(t, "the supplier's payouts", w.login("supplier").get("/payouts"), "Your bank returned a payout.",
			"Returned by the bank: AC04 closed account number",
			"Nothing is sent to your bank account until the platform clears the returned payout (above).")
		shows(t, "the admin's supplier page", admin.get("/admin/suppliers/"+sup), "The bank returned a payout to this supplier (AC04 closed account number",
			`<a href="/admin/operations#flag-`+sup+`">Operations</a>`)

		clear := opsPath + "/flags/" + sup + "/clear"
		res, _ = opsPost(t, admin, clear, url.Values{})
		if res.status != http.StatusUnprocessableEntity {
			t.Fatalf("clearing without the confirmation: %d", res.status)
		}
		errorNextTo(t, "no confirmation", res, "f-clear-"+sup,
			"Confirm that you checked the supplier's new bank details: once the flag is cleared, its payouts are sent to them.")
		form := url.Values{"checked": {"yes"}}
		res, key := opsPost(t, admin, clear, form)
		if res.status != http.StatusSeeOther {
			t.Fatalf("clear the flag: %d", res.status)
		}
		form.Set("idempotency_key", key)
		if again := admin.post(clear, form); again.status != http.StatusSeeOther {
			t.Fatalf("the same form again: %d", again.status)
		}
		shows(t, "after clearing", admin.get(opsPath), "Cleared the payout account flag of Ningbo Sunrise Garments Co.",
			"No payout account is flagged.")
		if f, err := w.svc.OpenPayoutFlag(w.ctx, w.admin, sup); err != nil || f != nil {
			t.Fatalf("the flag after clearing: %+v, %v", f, err)
		}
		bs, err := w.svc.PayoutBalances(w.ctx, w.admin, sup)
		w.must("balances", err)
		if len(bs) != 1 || bs[0].NextPayoutAt == nil || bs[0].Payable != p.Sent {
			t.Fatalf("no automatic payout scheduled after clearing: %+v", bs)
		}
		// A new form for the same supplier: its account is no longer flagged.
		res = admin.post(clear, url.Values{"idempotency_key": {freshKey(t, w, admin)}, "checked": {"yes"}})
		if res.status != http.StatusUnprocessableEntity {
			t.Fatalf("clearing an account not flagged: %d", res.status)
		}
		shows(t, "clearing again", res, `<p class="form-error" role="alert">The flag of Ningbo Sunrise Garments Co.: The supplier's account is not flagged.</p>`)
	})
}

// TestOperationsSandbox ensures the operations page of a sandbox server says that the sandbox
// workers answer its queues by themselves, with no real money moving, and names the sandbox
// payout rail and the sandbox bank. R12 R11
func TestOperationsSandbox(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, w *world) {
		w.sandboxed()
		page := w.login("admin").get(opsPath)
		if page.status != http.StatusOK {
			t.Fatalf("GET %s: %d", opsPath, page.status)
		}
		shows(t, "a sandbox server", page, sandboxBanner,
			"<strong>Sandbox:</strong> on this server the sandbox workers answer these queues by themselves — simulated answers, no real money moves.",
			"The sandbox payout rail answers the payouts requested on this sandbox server by itself",
			"The sandbox bank answers Pay Later debits by itself")
		hides(t, "a sandbox server", page, "No payout rail runs on this server", "No bank adapter runs on this server", "No payout rail or bank adapter")
	})
}

// TestOperationsPaging ensures an admin reaches every payout waiting for the bank's answer
// through "Next page of payouts" when they fill more than a page: each exactly once, oldest
// first (the one waiting longest on top; the API lists them newest first), with a link back to
// the first page; a cursor that is not one starts from the first page, and a form posted from a
// later page returns to it. R12
func TestOperationsPaging(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, w *world) {
		t.Cleanup(setOpsPageSizes(2))
		var ids []string
		for range 3 {
			ids = append(ids, w.requestedPayout().ID)
		}
		admin := w.login("admin")
		var seen []string
		path := opsPath
		for range 5 {
			res := admin.get(path)
			for _, m := range payoutItemRE.FindAllStringSubmatch(res.body, -1) {
				seen = append(seen, m[1])
			}
			if len(seen) > 2 && pageLink(res.body, "First page of payouts") == "" {
				t.Error("the second page of payouts has no link to the first")
			}
			if path = pageLink(res.body, "Next page of payouts"); path == "" {
				break
			}
			if !strings.HasSuffix(path, "#payouts-h") {
				t.Errorf("the next page opens at %s, not at the payouts", path)
			}
		}
		slices.Sort(ids) // oldest first: by ID, which is time-ordered
		if strings.Join(seen, " ") != strings.Join(ids, " ") {
			t.Fatalf("the pages list %v, want %v", seen, ids)
		}
		if res := admin.get(opsPath + "?payouts_after=%27;drop"); !strings.Contains(res.body, `id="payout-`+ids[0]+`"`) {
			t.Error("a cursor that is not one does not start from the first page")
		}
		second := opsPath + "?payouts_after=" + ids[1]
		page := admin.get(second)
		action := opsPath + "/payouts/" + ids[2] + "/sent"
		res := admin.post(action, url.Values{"idempotency_key": {formKey(t, page.body, action)}, "page": {"payouts_after=" + ids[1]},
			"amount": {"11600.00"}, "bank_reference": {"FT1"}, "value_date": {w.clock.Now().Format(time.DateOnly)}})
		if res.status != http.StatusSeeOther || res.header.Get("Location") != second {
			t.Fatalf("a form from the second page: %d to %q, want %s", res.status, res.header.Get("Location"), second)
		}
	})
}

// payoutItemRE finds the payouts the operations page lists, in order.
var payoutItemRE = regexp.MustCompile(`<article class="action queue-item" id="payout-([^"]+)"`)

// setOpsPageSizes lowers every page size of the operations page to n.
func setOpsPageSizes(n int) func() { return web.SetOperationsPageSizes(n, n, n, n, n, n) }
