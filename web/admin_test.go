package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/payment"
	"github.com/tradeassure/tradeassure/trade"
)

// onBothDatabases runs test on a world on SQLite and on one on PostgreSQL.
func onBothDatabases(t *testing.T, test func(t *testing.T, w *world)) {
	t.Run("sqlite", func(t *testing.T) { test(t, newWorld(t, sqliteURL(t))) })
	t.Run("postgres", func(t *testing.T) { test(t, newWorld(t, postgresURL(t))) })
}

// supplierID is the eligible supplier of the test world.
func (w *world) supplierID() string { return w.actors["supplier"].OrgID }

// TestAdminPagesByRole ensures the admin pages show real data to an admin and are refused (403)
// to every other role, forms included; the audit log is open to arbiters too.
func TestAdminPagesByRole(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, w *world) {
		o := w.order(trade.InProduction)
		sup := w.supplierID()
		pages := map[string][]string{
			"/admin/suppliers":           {"Ningbo Sunrise Garments Co.", "Unvetted Textiles Ltd.", "USD 50,000.00", "Gold Supplier, verified 2 years", `data-label="Release policy"`},
			"/admin/suppliers/" + sup:    {"Ningbo Sunrise Garments Co.", "Marked eligible", "Coverage limit set to USD 50,000.00", "Registered", `action="/admin/suppliers/` + sup + `/eligibility"`},
			"/admin/fees":                {"Credit or debit card", "2.95% of the amount paid", "Boleto Bancário", "In force"},
			"/admin/ledger":              {"Trial balance", "escrow:" + o.ID + ":USD", "Run ledger check"},
			"/admin/suspense":            {"No money is waiting for allocation."},
			"/orders/" + o.ID + "/audit": {"Chain intact", "order.placed"},
		}
		admin := w.login("admin")
		for path, want := range pages {
			res := admin.get(path)
			if res.status != http.StatusOK {
				t.Fatalf("admin GET %s: %d", path, res.status)
			}
			for _, s := range want {
				if !strings.Contains(res.body, s) {
					t.Errorf("admin %s lacks %q", path, s)
				}
			}
		}
		for _, role := range []string{"buyer", "supplier", "inspector", "arbiter"} {
			c := w.login(role)
			for path := range pages {
				want := http.StatusForbidden
				if role == "arbiter" && strings.HasSuffix(path, "/audit") {
					want = http.StatusOK // arbiters read the events of any order (R18)
				}
				if res := c.get(path); res.status != want {
					t.Errorf("%s GET %s: %d, want %d", role, path, res.status, want)
				}
			}
			// A form posted without the page is refused before anything is read from it.
			res := c.post("/admin/suppliers/"+sup+"/eligibility", url.Values{"eligible": {"no"}, "reason": {"x"}})
			if res.status != http.StatusForbidden {
				t.Errorf("%s POST eligibility: %d", role, res.status)
			}
			res = c.post("/admin/suspense/sus_x/allocate", url.Values{"payment": {o.ID + "/p"}})
			if res.status != http.StatusForbidden {
				t.Errorf("%s POST allocate: %d", role, res.status)
			}
		}
		org, err := w.svc.Org(w.ctx, sup)
		w.must("org", err)
		if !org.Eligibility.Eligible {
			t.Error("a refused form changed the supplier's eligibility")
		}
		// The order page links the audit log for staff only.
		if page := admin.get("/orders/" + o.ID).body; !strings.Contains(page, `href="/orders/`+o.ID+`/audit"`) {
			t.Error("the admin's order page does not link the audit log")
		}
		if page := w.login("buyer").get("/orders/" + o.ID).body; strings.Contains(page, "/audit") {
			t.Error("the buyer's order page links the audit log")
		}
		if res := admin.get("/admin/suppliers/" + w.actors["buyer"].OrgID); res.status != http.StatusNotFound {
			t.Errorf("a buyer's organization as a supplier page: %d", res.status)
		}
	})
}

// TestAdminEligibilityOff ensures an admin can mark a supplier not eligible, with a required
// reason kept next to its field when missing, and that buyers are then no longer offered the
// supplier (R1). The decision is in the supplier's history with its reason and date.
func TestAdminEligibilityOff(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, w *world) {
		sup := w.supplierID()
		path := "/admin/suppliers/" + sup
		if page := w.login("buyer").get("/suppliers").body; !strings.Contains(page, "/orders/new?supplier="+sup) {
			t.Fatal("the eligible supplier is not offered to begin with")
		}
		admin := w.login("admin")
		page := admin.get(path).body
		action := path + "/eligibility"
		// R1: a reason is required either way.
		res := admin.post(action, url.Values{"idempotency_key": {formKey(t, page, action)}, "eligible": {"no"}, "reason": {""}})
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, `id="f-reason-error"`) {
			t.Fatalf("no reason: %d, error next to the field: %v", res.status, strings.Contains(res.body, `id="f-reason-error"`))
		}
		if !regexp.MustCompile(`id="f-eligible-no"[^>]*checked`).MatchString(res.body) {
			t.Error("the refused form lost the choice made")
		}
		const reason = "Business licence expired on 2026-02-28"
		res = admin.post(action, url.Values{"idempotency_key": {formKey(t, res.body, action)}, "eligible": {"no"}, "reason": {reason}})
		if res.status != http.StatusSeeOther || res.header.Get("Location") != path {
			t.Fatalf("eligibility off: %d %q", res.status, res.header.Get("Location"))
		}
		page = admin.get(path).body
		for _, want := range []string{"Eligibility saved.", "Marked not eligible", reason, "2 Mar 2026"} {
			if !strings.Contains(page, want) {
				t.Errorf("the supplier page after the change lacks %q", want)
			}
		}
		buyer := w.login("buyer")
		if page := buyer.get("/suppliers").body; strings.Contains(page, sup) {
			t.Error("R1: the supplier directory still offers a supplier that is not eligible")
		}
		if res := buyer.get("/orders/new?supplier=" + sup); res.status != http.StatusUnprocessableEntity ||
			!strings.Contains(res.body, `id="f-supplier_id-error"`) || strings.Contains(res.body, `value="`+sup+`"`) {
			t.Errorf("R1: checkout still takes a supplier that is not eligible: %d", res.status)
		}
		org, err := w.svc.Org(w.ctx, sup)
		w.must("org", err)
		if org.Eligibility.Eligible || org.Eligibility.Reason != reason {
			t.Errorf("stored eligibility: %+v", org.Eligibility)
		}
	})
}

// TestAdminCoverageLimit ensures the coverage limit is read exactly in minor units from what
// the admin typed (no floats), and that a negative amount, letters, too many decimals, an
// overflow or a limit above the bound are shown next to the field with the input kept (R22).
func TestAdminCoverageLimit(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, w *world) {
		sup := w.supplierID()
		path := "/admin/suppliers/" + sup
		action := path + "/coverage-limit"
		admin := w.login("admin")
		page := admin.get(path).body
		for _, tc := range []struct{ name, limit, currency, msg string }{
			{"negative", "-5000.00", "USD", "cannot be negative"},
			{"letters", "25k", "USD", "digits and one point only"},
			{"too many decimals", "25000.001", "USD", "USD has 2 decimal places"},
			{"decimals in yen", "25000.5", "JPY", "JPY has 0 decimal places"},
			{"overflow", "92233720368547758.08", "USD", "too large"},
			{"above the bound", "100000000.01", "USD", "between 0 and USD 100,000,000.00"},
			{"empty", "", "USD", "Give the limit in USD"},
			{"unknown currency", "25000.00", "XXY", "Choose a currency"},
		} {
			res := admin.post(action, url.Values{"idempotency_key": {formKey(t, page, action)}, "limit": {tc.limit}, "currency": {tc.currency}})
			if res.status != http.StatusUnprocessableEntity {
				t.Errorf("%s: %d", tc.name, res.status)
				continue
			}
			field := "limit"
			if tc.name == "unknown currency" {
				field = "currency"
			}
			errRE := regexp.MustCompile(`<small id="f-` + field + `-error" class="field-error">([^<]*)</small>`)
			m := errRE.FindStringSubmatch(res.body)
			if m == nil || !strings.Contains(m[1], tc.msg) {
				t.Errorf("%s: error next to %s = %v, want %q", tc.name, field, m, tc.msg)
			}
			if tc.limit != "" && !strings.Contains(res.body, `name="limit" type="text" value="`+tc.limit+`"`) {
				t.Errorf("%s: the input %q is not kept", tc.name, tc.limit)
			}
		}
		org, err := w.svc.Org(w.ctx, sup)
		w.must("org", err)
		if org.Coverage.Limit != 50_000_00 {
			t.Fatalf("a refused limit changed it to %d", org.Coverage.Limit)
		}
		// A valid limit is stored exactly: 25,000.07 is 2,500,007 cents, with no rounding.
		res := admin.post(action, url.Values{"idempotency_key": {formKey(t, page, action)}, "limit": {"25000.07"}, "currency": {"USD"}})
		if res.status != http.StatusSeeOther {
			t.Fatalf("valid limit: %d %s", res.status, res.body)
		}
		org, err = w.svc.Org(w.ctx, sup)
		w.must("org", err)
		if org.Coverage.Limit != 25_000_07 || org.Coverage.Currency != "USD" {
			t.Errorf("stored limit %d %s, want 2500007 USD", org.Coverage.Limit, org.Coverage.Currency)
		}
		if page := admin.get(path).body; !strings.Contains(page, "Coverage limit set to USD 25,000.07.") ||
			!strings.Contains(page, "Coverage limit set to USD 25,000.07</td>") {
			t.Error("no flash, or no history entry, for the new limit")
		}
	})
}

// TestAdminAuditLog ensures the audit page lists every event of an order in sequence with its
// actor and hash links, says the chain is intact, and names the first broken link once an
// event is altered in the database behind the service's back.
func TestAdminAuditLog(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, w *world) {
		o := w.order(trade.Escalated)
		evs, err := w.svc.Events(w.ctx, w.admin, o.ID)
		w.must("events", err)
		if len(evs) < 8 {
			t.Fatalf("only %d events", len(evs))
		}
		path := "/orders/" + o.ID + "/audit"
		res := w.login("arbiter").get(path)
		if res.status != http.StatusOK || !strings.Contains(res.body, "Chain intact") {
			t.Fatalf("audit page: %d, chain intact: %v", res.status, strings.Contains(res.body, "Chain intact"))
		}
		rows := regexp.MustCompile(`<tr id="seq-(\d+)">`).FindAllStringSubmatch(res.body, -1)
		if len(rows) != len(evs) {
			t.Fatalf("%d rows, %d events", len(rows), len(evs))
		}
		last := -1
		for i, e := range evs {
			if rows[i][1] != itoa(e.Seq) {
				t.Errorf("row %d is seq %s, want %d", i, rows[i][1], e.Seq)
			}
			at := strings.Index(res.body, `<tr id="seq-`+itoa(e.Seq)+`">`)
			if at < last {
				t.Errorf("event %d is shown before its predecessor", e.Seq)
			}
			last = at
			row := res.body[at:]
			row = row[:strings.Index(row, "</tr>")]
			for _, want := range []string{"<code>" + e.Type + "</code>", `title="` + e.Hash + `"`, "<summary>Payload</summary>"} {
				if !strings.Contains(row, want) {
					t.Errorf("event %d lacks %q", e.Seq, want)
				}
			}
			if e.Seq > 1 && !strings.Contains(row, `title="`+evs[i-1].Hash+`"`) {
				t.Errorf("event %d does not show its link to the previous hash", e.Seq)
			}
		}
		if !strings.Contains(res.body, "Buyer at Maple Kids Apparel Inc.") || !strings.Contains(res.body, "Supplier at Ningbo Sunrise Garments Co.") {
			t.Error("actors are not shown with role and organization")
		}
		// Tamper with the third event: the page names that link as the first broken one.
		if _, err := w.db.SQL().ExecContext(w.ctx, `UPDATE events SET payload = '{"forged":true}' WHERE stream = $1 AND seq = 3`, o.ID); err != nil {
			t.Fatal(err)
		}
		res = w.login("admin").get(path)
		if strings.Contains(res.body, "Chain intact") || !strings.Contains(res.body, "Chain broken") ||
			!strings.Contains(res.body, "seq 3: hash does not match its content") {
			t.Error("a forged event is not reported as the first broken link")
		}
	})
}

// TestAdminLedger ensures the ledger page shows a balanced trial balance — debits equal credits
// per currency — after an order has moved real money (a deposit paid by card, with its fee),
// and that running the ledger check reports OK.
func TestAdminLedger(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, w *world) {
		o := w.order(trade.InProduction) // the initial payment arrived: rail → escrow and fee revenue
		bal, err := w.svc.Balances(w.ctx, w.admin)
		w.must("balances", err)
		var debits int64
		for _, b := range bal {
			if s := b.Signed(); s > 0 {
				debits += s
			}
		}
		if debits == 0 {
			t.Fatal("no money moved")
		}
		want := `<td data-label="Debits" class="num">USD ` + money.GroupThousands(money.New(debits, "USD").Decimal()) + `</td>
<td data-label="Credits" class="num">USD ` + money.GroupThousands(money.New(debits, "USD").Decimal()) + `</td>
<td data-label="Balanced">Yes</td>`
		admin := w.login("admin")
		for _, path := range []string{"/admin/ledger", "/admin/ledger?check=1"} {
			res := admin.get(path)
			if res.status != http.StatusOK {
				t.Fatalf("%s: %d", path, res.status)
			}
			if !strings.Contains(res.body, want) {
				t.Errorf("%s: no balanced USD trial balance of %d", path, debits)
			}
			if !strings.Contains(res.body, "escrow:"+o.ID+":USD") || !strings.Contains(res.body, "fee_revenue:") {
				t.Errorf("%s: the order's escrow or the fee revenue account is not listed", path)
			}
		}
		if res := admin.get("/admin/ledger?check=1"); !strings.Contains(res.body, "<strong>OK</strong>") {
			t.Error("the ledger check does not report OK")
		}
		// The check's chain verification is the audit page's: a forged event fails both.
		if _, err := w.db.SQL().ExecContext(w.ctx, `UPDATE events SET payload = '{"forged":true}' WHERE stream = $1 AND seq = 2`, o.ID); err != nil {
			t.Fatal(err)
		}
		if res := admin.get("/admin/ledger?check=1"); !strings.Contains(res.body, "chain_tampered") || strings.Contains(res.body, "<strong>OK</strong>") {
			t.Error("the ledger check does not report the forged event")
		}
	})
}

// TestAdminSuspense ensures money that matched no order waits in suspense (R8), is listed for the
// admin with the payments it could be for, and once allocated pays the order's payment.
func TestAdminSuspense(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, w *world) {
		o := w.order(trade.Confirmed)
		var err error
		o, err = w.svc.Do(w.ctx, w.actors["buyer"], w.key(), o.ID, trade.Pay{Installment: trade.Initial, Method: payment.TTWire})
		w.must("pay", err)
		p := o.Payments[0]
		// The buyer's bank dropped the reference: the money cannot be matched.
		al, err := w.svc.ReceiveFunds(w.ctx, "stmt-1", escrow.Incoming{Method: payment.TTWire,
			Amount: money.New(p.Total, "USD"), Reference: "INVOICE 1234", Payer: "Maple Kids Apparel"})
		w.must("receive", err)
		if al.SuspenseID == "" {
			t.Fatal("unmatched money was not held in suspense")
		}
		admin := w.login("admin")
		page := admin.get("/admin/suspense").body
		action := "/admin/suspense/" + al.SuspenseID + "/allocate"
		choice := o.ID + "/" + p.ID
		for _, want := range []string{"INVOICE 1234", "Maple Kids Apparel", `value="` + choice + `"`, p.Reference} {
			if !strings.Contains(page, want) {
				t.Errorf("suspense page lacks %q", want)
			}
		}
		res := admin.post(action, url.Values{"idempotency_key": {formKey(t, page, action)}, "payment": {""}})
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, `id="f-payment-`+al.SuspenseID+`-error"`) {
			t.Fatalf("no payment chosen: %d", res.status)
		}
		res = admin.post(action, url.Values{"idempotency_key": {formKey(t, res.body, action)}, "payment": {choice}})
		if res.status != http.StatusSeeOther {
			t.Fatalf("allocate: %d %s", res.status, res.body)
		}
		o, err = w.svc.Order(w.ctx, w.admin, o.ID)
		w.must("order", err)
		if o.Payments[0].Status != trade.PaymentReceived || o.State != trade.InProduction {
			t.Errorf("after allocation: payment %s, order %s", o.Payments[0].Status, o.State)
		}
		page = admin.get("/admin/suspense").body
		if !strings.Contains(page, "No money is waiting for allocation.") || !strings.Contains(page, `href="/orders/`+o.ID+`"`) {
			t.Error("the allocated item is still open, or not listed as allocated")
		}
	})
}

// TestAdminReleasePolicy ensures an admin can override the platform's release policy for one
// supplier and go back to the default, that an unknown policy is refused next to the field, and
// that the same form posted twice applies once (one history entry). R14
func TestAdminReleasePolicy(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, w *world) {
		sup := w.supplierID()
		path := "/admin/suppliers/" + sup
		action := path + "/release-policy"
		admin := w.login("admin")
		page := admin.get(path).body
		res := admin.post(action, url.Values{"idempotency_key": {formKey(t, page, action)}, "release_policy": {"pay_everything_now"}})
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, `id="f-release_policy-error"`) {
			t.Fatalf("unknown policy: %d", res.status)
		}
		form := url.Values{"idempotency_key": {formKey(t, page, action)}, "release_policy": {string(trade.ReleaseInitialForProduction)}}
		for i := range 2 {
			if res := admin.post(action, form); res.status != http.StatusSeeOther {
				t.Fatalf("post #%d: %d", i+1, res.status)
			}
		}
		org, err := w.svc.Org(w.ctx, sup)
		w.must("org", err)
		if org.Policy != trade.ReleaseInitialForProduction {
			t.Errorf("stored policy %q", org.Policy)
		}
		hist, err := w.svc.OrgHistory(w.ctx, w.admin, sup)
		w.must("history", err)
		n := 0
		for _, c := range hist {
			if c.Field == "release_policy" {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d release policy changes after a double submit, want 1", n)
		}
		page = admin.get(path).body
		if !strings.Contains(page, "Release policy: Release the initial payment for production") {
			t.Error("the change is not in the history")
		}
		// Back to the platform's default: the empty choice.
		res = admin.post(action, url.Values{"idempotency_key": {formKey(t, page, action)}, "release_policy": {""}})
		if res.status != http.StatusSeeOther {
			t.Fatalf("default: %d", res.status)
		}
		if page := admin.get("/admin/suppliers").body; !strings.Contains(page, "Hold until shipment (platform default)") {
			t.Error("the suppliers list does not show the platform default in force")
		}
	})
}
