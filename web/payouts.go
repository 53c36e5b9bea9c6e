package web

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/trade"
)

// Limits of the payout pages.
const (
	PayoutsPageMax   = 50 // payouts listed on one page of a supplier's payouts
	PayoutsRecentMax = 10 // a supplier's latest payouts on the admin's supplier page
)

// payoutRoutes registers a supplier's payouts page and the admin's "Pay out now" (docs/payouts.md).
func (s *Server) payoutRoutes(app *http.ServeMux) {
	app.Handle("GET /payouts", s.auth(s.payoutsPage))
	app.Handle("POST /admin/suppliers/{id}/payout", s.auth(s.only(s.payOutNow, trade.RoleAdmin)))
}

// payoutsData is a supplier's payouts page: what the platform owes it now, in each currency, and
// the payouts it received, newest first.
type payoutsData struct {
	Balances   []escrow.PayoutBalance
	Flag       *trade.PayoutAccountFlag // a returned payout flagged the supplier's account
	Payouts    []payoutRow
	Before     string // the page of older payouts this is; "" for the newest
	NextBefore string // the cursor of the next older page; "" on the last
}

// payoutRow is a payout as the portal lists it.
type payoutRow struct{ trade.Payout }

// payoutRows wraps payouts for the portal.
func payoutRows(ps []trade.Payout) []payoutRow {
	out := make([]payoutRow, len(ps))
	for i, p := range ps {
		out[i] = payoutRow{p}
	}
	return out
}

// StatusText says where the payout is, in words; a sandbox payout says it moved no money.
func (p payoutRow) StatusText() string {
	s := ""
	switch p.Status {
	case trade.PayoutRequested:
		s = "Requested: waiting for the bank's confirmation"
	case trade.PayoutSent:
		s = "Sent"
		if p.ValueDate != nil {
			s += " on " + p.ValueDate.Format("2 Jan 2006")
		}
		if p.BankReference != "" {
			s += ", bank reference " + p.BankReference
		}
	case trade.PayoutReturned:
		s = "Returned by the bank: " + p.ReturnReason
	case trade.PayoutNetted:
		return "Netted: nothing sent"
	default:
		s = string(p.Status)
	}
	if p.Sandbox {
		s += " (sandbox: simulated, no money moved)"
	}
	return s
}

// payoutsPage shows a supplier what it is owed and its payouts. It is the supplier's own page:
// every other role is refused.
func (s *Server) payoutsPage(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	if a.Role != trade.RoleSupplier {
		s.render(w, r, http.StatusForbidden, "error.html", "Not allowed",
			errorData{Message: "This page is for suppliers: it shows what the platform owes them. Admins pay suppliers out from each supplier's page."})
		return
	}
	d := payoutsData{Before: r.URL.Query().Get("before")}
	if len(d.Before) > 64 {
		d.Before = ""
	}
	var err error
	if d.Balances, err = s.svc.PayoutBalances(ctx, a, a.OrgID); err != nil {
		s.fail(w, r, err)
		return
	}
	if d.Flag, err = s.svc.OpenPayoutFlag(ctx, a, a.OrgID); err != nil {
		s.fail(w, r, err)
		return
	}
	ps, err := s.svc.Payouts(ctx, a, escrow.PayoutFilter{Before: d.Before, Limit: PayoutsPageMax})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.Payouts = payoutRows(ps)
	if len(d.Payouts) == PayoutsPageMax {
		d.NextBefore = d.Payouts[len(d.Payouts)-1].ID
	}
	s.render(w, r, http.StatusOK, "payouts.html", "Payouts", d)
}

// payoutPanel is the payouts part of the admin's supplier page: the balances, the latest
// payouts, and the "Pay out now" form.
type payoutPanel struct {
	Balances   []escrow.PayoutBalance
	Flag       *trade.PayoutAccountFlag // a returned payout flagged the account: cleared on the operations page
	Recent     []payoutRow
	Currencies []money.Currency
	Form       *form
}

// payoutPanel reads a supplier's balances and latest payouts for the admin. The form offers the
// currencies the supplier is owed in first, then the portal's others.
func (s *Server) payoutPanel(ctx context.Context, a trade.Actor, supplierID string) (*payoutPanel, error) {
	p := &payoutPanel{}
	var err error
	if p.Balances, err = s.svc.PayoutBalances(ctx, a, supplierID); err != nil {
		return nil, err
	}
	if p.Flag, err = s.svc.OpenPayoutFlag(ctx, a, supplierID); err != nil {
		return nil, err
	}
	recent, err := s.svc.Payouts(ctx, a, escrow.PayoutFilter{SupplierID: supplierID, Limit: PayoutsRecentMax})
	if err != nil {
		return nil, err
	}
	p.Recent = payoutRows(recent)
	chosen := ""
	for _, b := range p.Balances {
		if b.Payable > 0 {
			p.Currencies = append(p.Currencies, b.Currency)
			if chosen == "" {
				chosen = string(b.Currency)
			}
		}
	}
	for _, c := range Currencies {
		if !slices.Contains(p.Currencies, c) {
			p.Currencies = append(p.Currencies, c)
		}
	}
	if chosen == "" {
		chosen = string(p.Currencies[0])
	}
	p.Form = newForm(map[string][]string{"currency": {chosen}})
	return p, nil
}

// payOutNow pays a supplier out now in the chosen currency (admin). Nothing to pay, or no rail
// for the currency, is told next to the currency, keeping the choice.
func (s *Server) payOutNow(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	ctx, a, id := r.Context(), actorOf(r), r.PathValue("id")
	f := newForm(formValues(r.PostForm))
	f.Values.Del("idempotency_key")
	key, ok := idempotencyKey(r, f)
	cur, err := money.ParseCurrency(strings.TrimSpace(f.Value("currency")))
	if err != nil {
		f.add("currency", "Choose a currency.")
	}
	flash := ""
	if ok && !f.Failed() {
		p, err := s.svc.PayOut(ctx, a, key, id, cur)
		switch e, isFault := fault.As(err); {
		case err == nil:
			flash = payoutFlash(p)
		case isFault && e.Code == fault.NotFound:
			s.fail(w, r, err)
			return
		case isFault && e.Code == fault.Conflict:
			f.add("currency", sentence(e.Message))
		case !f.setError(err):
			s.fail(w, r, err)
			return
		}
	}
	if f.Failed() {
		s.showSupplier(w, r, http.StatusUnprocessableEntity, "payout", f.rekey())
		return
	}
	s.redirect(w, r, "/admin/suppliers/"+id+"#payouts", flash)
}

// payoutFlash says what a payout did, for the admin who asked for it: a payout is requested
// from the rail, and sent only once the bank confirms it.
func payoutFlash(p trade.Payout) string {
	c := p.Currency
	if p.Sent == 0 {
		return "Netted " + formatMoney(p.Netted, c) + " against the supplier's debt; nothing was left to send."
	}
	s := "Requested a payout of " + formatMoney(p.Sent, c) + " by " + methodName(p.Method)
	if p.Netted > 0 {
		s += " after netting " + formatMoney(p.Netted, c) + " against the supplier's debt"
	}
	if p.Sandbox {
		return s + "; the sandbox payout rail answers it (simulated, no money moves)."
	}
	return s + "; it is sent once the bank's confirmation is recorded."
}
