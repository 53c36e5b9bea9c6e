package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/trade"
)

// adminRoutes registers the admin pages: supplier eligibility and coverage, fee schedule,
// ledger, suspense, and the audit log of an order (which arbiters may read too).
func (s *Server) adminRoutes(app *http.ServeMux) {
	admin := func(h http.HandlerFunc) http.Handler { return s.auth(s.only(h, trade.RoleAdmin)) }
	app.Handle("GET /admin/suppliers", admin(s.suppliersPage))
	app.Handle("GET /admin/suppliers/{id}", admin(s.supplierPage))
	app.Handle("POST /admin/suppliers/{id}/{setting}", admin(s.supplierSetting))
	app.Handle("GET /admin/fees", admin(s.feesPage))
	app.Handle("GET /admin/ledger", admin(s.ledgerPage))
	app.Handle("GET /admin/suspense", admin(s.suspensePage))
	app.Handle("POST /admin/suspense/{id}/allocate", admin(s.allocateSuspense))
	app.Handle("GET /orders/{id}/audit", s.auth(s.only(s.auditPage, trade.RoleAdmin, trade.RoleArbiter)))
}

// only lets the roles through to h; anyone else gets a 403 page. The use cases check again.
func (s *Server) only(h http.HandlerFunc, roles ...trade.Role) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !slices.Contains(roles, actorOf(r).Role) {
			s.render(w, r, http.StatusForbidden, "error.html", "Not allowed",
				errorData{Message: "This page is for platform staff only."})
			return
		}
		h(w, r)
	}
}

// supplierRow is one supplier in the admin's list.
type supplierRow struct {
	trade.Org
	Policy string // the release policy in force for it (R14)
}

func (s *Server) suppliersPage(w http.ResponseWriter, r *http.Request) {
	sups, err := s.svc.Orgs(r.Context(), trade.KindSupplier)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rows := make([]supplierRow, 0, len(sups))
	for _, o := range sups {
		rows = append(rows, supplierRow{Org: o, Policy: s.policyLabel(o.Policy)})
	}
	s.render(w, r, http.StatusOK, "admin-suppliers.html", "Suppliers", rows)
}

// policyLabel names the release policy in force: the supplier's override or the platform's.
func (s *Server) policyLabel(p trade.ReleasePolicy) string {
	if p == "" {
		return policyNames[s.svc.Config().Policy] + " (platform default)"
	}
	return policyNames[p]
}

var policyNames = map[trade.ReleasePolicy]string{
	trade.HoldUntilShipment:           "Hold until shipment",
	trade.ReleaseInitialForProduction: "Release the initial payment for production",
}

// supplierData is the page of one supplier: its settings, a form for each, and its history.
type supplierData struct {
	Org         trade.Org
	Policy      string
	Platform    string // the platform's policy, for the "default" option
	Currencies  []money.Currency
	Eligibility *form
	Coverage    *form
	Release     *form
	History     []historyRow
	CoverageMax string
	Payouts     *payoutPanel // payouts.go: balances, latest payouts, "Pay out now"
}

// historyRow is one recorded change of a supplier (R1, R22, R14).
type historyRow struct {
	At     time.Time
	Who    string
	What   string
	Detail string
}

func (s *Server) supplierPage(w http.ResponseWriter, r *http.Request) {
	s.showSupplier(w, r, http.StatusOK, "", nil)
}

// showSupplier renders a supplier's page; failed, when set, is the form that was refused (by
// its setting name), shown with its errors and what was typed.
func (s *Server) showSupplier(w http.ResponseWriter, r *http.Request, status int, setting string, failed *form) {
	ctx, a := r.Context(), actorOf(r)
	o, err := s.svc.Org(ctx, r.PathValue("id"))
	if err == nil && o.Kind != trade.KindSupplier {
		err = fault.New(fault.NotFound, "supplier_not_found", "there is no such supplier")
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	changes, err := s.svc.OrgHistory(ctx, a, o.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	cur := o.Coverage.Currency
	if cur == "" {
		cur = "USD"
	}
	d := supplierData{Org: o, Policy: s.policyLabel(o.Policy), Platform: policyNames[s.svc.Config().Policy],
		Currencies: Currencies, CoverageMax: formatMoney(trade.CoverageMaxUSD, cur),
		Eligibility: newForm(url.Values{"eligible": {yesNo(o.Eligibility.Eligible)}}),
		Coverage:    newForm(url.Values{"limit": {formatDecimal(o.Coverage.Limit, cur)}, "currency": {string(cur)}}),
		Release:     newForm(url.Values{"release_policy": {string(o.Policy)}})}
	if !slices.Contains(d.Currencies, cur) {
		d.Currencies = append(slices.Clone(d.Currencies), cur)
	}
	if d.Payouts, err = s.payoutPanel(ctx, a, o.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	switch setting {
	case "eligibility":
		d.Eligibility = failed
	case "coverage-limit":
		d.Coverage = failed
	case "release-policy":
		d.Release = failed
	case "payout":
		d.Payouts.Form = failed
	}
	for i := len(changes) - 1; i >= 0; i-- { // newest first
		d.History = append(d.History, s.historyRow(r, changes[i]))
	}
	s.render(w, r, status, "admin-supplier.html", o.Name, d)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// historyRow describes one change for people, from the request the admin made.
func (s *Server) historyRow(r *http.Request, c escrow.OrgChange) historyRow {
	h := historyRow{At: c.At, Who: roleLabel(c.Actor)}
	if c.Actor.OrgID != "" && c.Actor.Role != trade.RoleSystem {
		h.Who += " at " + s.orgName(r.Context(), c.Actor.OrgID)
	}
	switch c.Field {
	case "created":
		h.What = "Registered"
	case "eligibility":
		var v struct {
			Eligible bool   `json:"eligible"`
			Reason   string `json:"reason"`
		}
		if json.Unmarshal(c.Change, &v) == nil {
			h.What, h.Detail = "Marked not eligible", v.Reason
			if v.Eligible {
				h.What = "Marked eligible"
			}
		}
	case "coverage_limit":
		var v money.Amount
		if json.Unmarshal(c.Change, &v) == nil {
			h.What = "Coverage limit set to " + formatMoney(v.Minor, v.Currency)
		}
	case "release_policy":
		var p trade.ReleasePolicy
		if json.Unmarshal(c.Change, &p) == nil {
			h.What = "Release policy: " + s.policyLabel(p)
		}
	}
	if h.What == "" {
		h.What, h.Detail = capitalize(strings.ReplaceAll(c.Field, "_", " ")), string(c.Change)
	}
	return h
}

// supplierSetting applies one of the supplier forms: eligibility (R1), coverage limit (R22)
// or release policy (R14). A refusal re-renders the page with the error next to its field.
func (s *Server) supplierSetting(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	ctx, a, id, setting := r.Context(), actorOf(r), r.PathValue("id"), r.PathValue("setting")
	f := newForm(formValues(r.PostForm))
	f.Values.Del("idempotency_key")
	key, ok := idempotencyKey(r, f)
	var flash string
	var err error
	switch setting {
	case "eligibility":
		eligible := f.Value("eligible")
		if eligible != "yes" && eligible != "no" {
			f.add("eligible", "Choose whether the supplier is eligible.")
		}
		if ok && !f.Failed() {
			_, err = s.svc.SetEligibility(ctx, a, key, id, eligible == "yes", strings.TrimSpace(f.Value("reason")))
			flash = "Eligibility saved."
		}
	case "coverage-limit":
		limit, parsed := coverageLimit(f)
		if ok && parsed {
			_, err = s.svc.SetCoverageLimit(ctx, a, key, id, limit)
			if fault.ReasonOf(err) == "invalid_coverage_limit" {
				err = fault.FieldErr("limit", "invalid_coverage_limit", "the limit must be between 0 and %s",
					formatMoney(trade.CoverageMaxUSD, limit.Currency))
			}
			flash = "Coverage limit set to " + formatMoney(limit.Minor, limit.Currency) + "."
		}
	case "release-policy":
		p := trade.ReleasePolicy(f.Value("release_policy"))
		if ok {
			_, err = s.svc.SetReleasePolicy(ctx, a, key, id, p)
			flash = "Release policy saved."
		}
	default:
		s.render(w, r, http.StatusNotFound, "error.html", "Not found", errorData{Message: "There is no such setting."})
		return
	}
	if err != nil && !f.setError(err) {
		s.fail(w, r, err)
		return
	}
	if f.Failed() {
		s.showSupplier(w, r, http.StatusUnprocessableEntity, setting, f.rekey())
		return
	}
	s.redirect(w, r, "/admin/suppliers/"+id, flash)
}

// rekey gives a refused form a new idempotency key, so the corrected form is a new command.
func (f *form) rekey() *form { f.Key = newToken(); return f }

// coverageLimit reads the limit typed in major units with its currency, exactly: no floats, no
// rounding; too many decimals, letters, a sign or an overflow are refused next to the field.
func coverageLimit(f *form) (money.Amount, bool) {
	c, err := money.ParseCurrency(strings.TrimSpace(f.Value("currency")))
	if err != nil {
		f.add("currency", "Choose a currency.")
		return money.Amount{}, false
	}
	return decimalAmount(f, "limit", c, "limit", 25_000*pow10(c.Digits()), false)
}

func pow10(n int) int64 {
	p := int64(1)
	for range n {
		p *= 10
	}
	return p
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
