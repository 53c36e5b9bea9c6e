package web_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/payment"
	"github.com/tradeassure/tradeassure/trade"
	"github.com/tradeassure/tradeassure/web"
)

// sandboxBanner is what every page says while the server runs the sandbox payment rail.
const sandboxBanner = "payments are simulated, no real money moves"

// sandboxed serves the world's database again as serve --sandbox does: a service with the
// sandbox rail on and the portal told so. It returns that service.
func (w *world) sandboxed() *escrow.Service {
	w.t.Helper()
	svc := escrow.New(w.db, escrow.Options{Clock: w.clock, Config: trade.DefaultConfig(),
		Sandbox: escrow.Sandbox{Enabled: true, Delay: time.Minute}})
	mux := http.NewServeMux()
	mux.Handle("/", web.New(svc, w.acc, web.NewSessions(w.db.Sessions(), web.SessionConfig{}),
		web.Options{LookupUser: w.db.Access().User, Sandbox: true}))
	w.srv = httptest.NewServer(http.NewCrossOriginProtection().Handler(mux))
	w.t.Cleanup(w.srv.Close)
	return svc
}

// TestPortalWithoutSandbox ensures a portal without the sandbox rail shows no sandbox banner,
// and that the buyer's payment instructions name the platform's collection account for the
// method and currency — beneficiary, bank, SWIFT BIC, account — beside the reference, with the
// warning that only money paid there is covered. R8
func TestPortalWithoutSandbox(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, w *world) {
		o := w.order(trade.Confirmed)
		o, err := w.svc.Do(w.ctx, w.actors["buyer"], w.key(), o.ID, trade.Pay{Installment: trade.Initial, Method: payment.TTWire})
		w.must("pay", err)
		p := o.Payments[0]
		buyer := w.login("buyer")
		page := buyer.get("/orders/" + o.ID)
		if page.status != http.StatusOK {
			t.Fatalf("order page: %d", page.status)
		}
		for _, want := range []string{"Pay to", p.PayTo.Beneficiary, p.PayTo.Bank, p.PayTo.BIC, p.PayTo.Number, p.Reference,
			"Trade Assurance covers only money paid to the platform's designated accounts"} {
			if !strings.Contains(page.body, want) {
				t.Errorf("instructions lack %q", want)
			}
		}
		for _, path := range []string{"/login", "/", "/orders/" + o.ID} {
			if body := buyer.get(path).body; strings.Contains(body, sandboxBanner) || strings.Contains(body, "sandbox") {
				t.Errorf("%s mentions the sandbox without it", path)
			}
		}
	})
}

// TestPortalSandboxBanner ensures that with the sandbox rail on every page — logged out,
// each role's pages, errors — carries the banner that payments are simulated, and that the
// buyer's instructions and the payment itself are marked as the sandbox's. R8
func TestPortalSandboxBanner(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, w *world) {
		o := w.order(trade.Confirmed)
		svc := w.sandboxed()
		if page := w.client().get("/login"); !strings.Contains(page.body, sandboxBanner) {
			t.Errorf("login page lacks the banner: %s", page.body)
		}
		o, err := svc.Do(w.ctx, w.actors["buyer"], w.key(), o.ID, trade.Pay{Installment: trade.Initial, Method: payment.Card})
		w.must("pay", err)
		buyer := w.login("buyer")
		for _, path := range []string{"/", "/orders/" + o.ID, "/suppliers", "/orders/new?supplier=" + o.SupplierID, "/no-such-page"} {
			if body := buyer.get(path).body; !strings.Contains(body, sandboxBanner) {
				t.Errorf("buyer's %s lacks the banner", path)
			}
		}
		admin := w.login("admin")
		for _, path := range []string{"/admin/ledger", "/admin/suspense"} {
			if body := admin.get(path).body; !strings.Contains(body, sandboxBanner) {
				t.Errorf("admin's %s lacks the banner", path)
			}
		}
		page := buyer.get("/orders/" + o.ID).body
		if !strings.Contains(page, "The sandbox delivers this payment by itself after 1 minute.") ||
			!strings.Contains(page, "(sandbox: simulated)") {
			t.Errorf("the sandbox payment is not marked as one:\n%s", page)
		}
	})
}
