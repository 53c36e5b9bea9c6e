package web

import (
	"context"
	"html/template"
	"net/http"
	"time"

	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/quality"
	"github.com/tradeassure/tradeassure/trade"
)

// orderData is everything the order page shows.
type orderData struct {
	O          *trade.Order
	Viewer     *viewer
	Buyer      string
	Supplier   string
	Inspector  string
	Lifecycle  template.HTML
	Contract   *trade.Contract
	Confirmed  *trade.ContractVersion // nil while only proposed
	ProposedBy string                 // who proposed the contract shown, when unconfirmed
	LineTotals []int64
	Total      int64
	ShowMoney  bool // an inspection company sees the goods, not the money
	Coverage   coverage
	Pending    *trade.Payment
	Events     []eventRow
	Thread     threadData
	Actions    []*action
	Error      string // a refusal whose form is no longer on the page
	// Deadlines are the order's live deadlines with their countdowns (deadlines.go).
	Deadlines []deadline
	Dispute   *trade.Dispute // the latest dispute
	Report    *trade.Report  // the latest inspection report
	// Quality (arbiter.go): the confirmed contract's specification check (R5), the sampling
	// plan and the verdict on the latest report (R16), and whether staff get a case file link.
	SpecCheck *specCheck
	Judgement *quality.Judgement
	Plan      []planRow
	Lot       int64
	CaseFile  bool
}

// coverage is how much of the order the supplier's Trade Assurance limit covers (R22).
type coverage struct {
	Amount   int64
	Total    int64
	Currency money.Currency
	Reserved bool   // reserved at confirmation; before it, what would be reserved now
	Note     string // why there is none
}

type eventRow struct {
	At    time.Time
	Label string
	Who   string
}

func (s *Server) orderPage(w http.ResponseWriter, r *http.Request) {
	s.showOrder(w, r, http.StatusOK, nil)
}

// showOrder renders the order page; failed, when set, is an action form that was refused and
// is shown again with what was typed and the errors next to their fields.
func (s *Server) showOrder(w http.ResponseWriter, r *http.Request, status int, failed *action) {
	if failed != nil && failed.Key == "decide" { // a refused decision goes back to the case file
		s.showCase(w, r, status, failed)
		return
	}
	ctx, a := r.Context(), actorOf(r)
	o, err := s.svc.Order(ctx, a, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d, err := s.orderData(ctx, r, o)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.Actions, err = s.actions(ctx, o, a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if failed != nil && failed.Key == "message" {
		d.Thread.Form = failed.Form
		failed = nil
	}
	if failed != nil {
		placed := false
		for i, x := range d.Actions {
			if x.Key == failed.Key {
				failed.fill(x)
				d.Actions[i] = failed
				placed = true
			}
		}
		if !placed {
			d.Error = failed.Form.Error
			for _, msg := range failed.Form.Errors {
				d.Error = msg
			}
		}
	}
	s.render(w, r, status, "order.html", "Order "+shortID(o.ID), d)
}

func (s *Server) orderData(ctx context.Context, r *http.Request, o *trade.Order) (*orderData, error) {
	v := viewerFrom(ctx)
	d := &orderData{O: o, Viewer: v, Buyer: s.orgName(ctx, o.BuyerID), Supplier: s.orgName(ctx, o.SupplierID),
		Lifecycle: lifecycleSVG(o.State), ShowMoney: v.Role != trade.RoleInspector, Total: orderTotal(o)}
	if o.Inspection != nil {
		d.Inspector = s.orgName(ctx, o.Inspection.InspectorID)
		if n := len(o.Inspection.Reports); n > 0 {
			d.Report = &o.Inspection.Reports[n-1]
		}
	}
	if n := len(o.Disputes); n > 0 {
		d.Dispute = &o.Disputes[n-1]
	}
	switch {
	case o.Proposal != nil && o.Contract() == nil:
		d.Contract, d.ProposedBy = &o.Proposal.Contract, s.orgName(ctx, o.Proposal.ProposedBy)
	case o.Contract() != nil:
		d.Confirmed = o.Contract()
		d.Contract = &d.Confirmed.Contract
	}
	if d.Contract != nil {
		for _, li := range d.Contract.LineItems {
			d.LineTotals = append(d.LineTotals, li.Quantity*li.UnitPrice) // checked by the domain when proposed
		}
	}
	for _, p := range o.Payments {
		if p.Status == trade.PaymentPending {
			d.Pending = &p
		}
	}
	if err := d.addQuality(o); err != nil {
		return nil, err
	}
	timers, err := s.svc.Timers(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	d.Deadlines = orderDeadlines(o, timers, s.svc.Now(), d.ShowMoney)
	cov, err := s.coverage(ctx, o)
	if err != nil {
		return nil, err
	}
	d.Coverage = cov
	evs, err := s.svc.Events(ctx, v.Actor, o.ID)
	if err != nil {
		return nil, err
	}
	for i := len(evs) - 1; i >= 0; i-- { // newest first
		e := evs[i]
		if !d.ShowMoney && isMoneyEvent(e.Type) {
			continue
		}
		d.Events = append(d.Events, eventRow{At: e.At, Label: eventLabel(e.Type), Who: roleLabel(e.Actor)})
	}
	d.Thread, err = s.thread(ctx, o, nil)
	return d, err
}

// isMoneyEvent reports whether an event is one an inspection company does not see (the
// domain's allowlist; escrow.Events already leaves these out for inspectors).
func isMoneyEvent(typ string) bool { return !trade.EventVisible(typ, trade.RoleInspector) }

func roleLabel(a trade.Actor) string {
	if a.Role == trade.RoleSystem {
		return "Platform (automatic)"
	}
	return capitalize(string(a.Role))
}

// coverage says how much of the order the platform's guarantee covers (R22): what was reserved
// at confirmation, or before it what the supplier's available limit would cover now.
func (s *Server) coverage(ctx context.Context, o *trade.Order) (coverage, error) {
	c := coverage{Total: orderTotal(o), Currency: o.Currency}
	if o.Contract() != nil {
		c.Reserved = true
		if o.CoverageCurrency != o.Currency {
			c.Note = "The supplier's limit is in another currency, so this order is not covered."
			return c, nil
		}
		c.Amount = o.Coverage
		return c, nil
	}
	sup, err := s.svc.Org(ctx, o.SupplierID)
	if err != nil {
		return c, err
	}
	if sup.Coverage.Currency != o.Currency {
		c.Note = "The supplier's limit is in another currency, so this order would not be covered."
		return c, nil
	}
	c.Amount = min(c.Total, sup.Coverage.Available())
	return c, nil
}

// threadData is the message thread and the form under it (R23): one block, so that htmx can
// swap both, and the form gets a fresh idempotency key with every swap.
type threadData struct {
	OrderID  string
	Messages []messageRow
	Form     *form
	Uploads  bool // the server stores attachments (R23)
}

type messageRow struct {
	trade.Message
	Who  string
	Mine bool
}

func (s *Server) thread(ctx context.Context, o *trade.Order, f *form) (threadData, error) {
	v := viewerFrom(ctx)
	ms, err := s.svc.Messages(ctx, v.Actor, o.ID)
	if err != nil {
		return threadData{}, err
	}
	if f == nil {
		f = newForm(nil)
	}
	t := threadData{OrderID: o.ID, Form: f, Uploads: s.blobs != nil}
	for _, m := range ms {
		who := s.orgName(ctx, m.Author.OrgID) + " (" + string(m.Author.Role) + ")"
		t.Messages = append(t.Messages, messageRow{Message: m, Who: who, Mine: m.Author.OrgID == v.OrgID})
	}
	return t, nil
}

// postMessage adds to the thread. With htmx it answers the new thread; without, it redirects.
func (s *Server) postMessage(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	o, err := s.svc.Order(ctx, a, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	up, err := s.readUpload(r, "attachments") // R23: messages carry attachments
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f := newForm(formValues(up.values))
	f.Values.Del("idempotency_key")
	up.report(f)
	body := r.PostForm.Get("body")
	atts := s.keptAttachments(ctx, f, o, "attachments", trade.MessageAttachmentsMax)
	if key, ok := idempotencyKey(r, f); ok && !f.Failed() {
		if _, err := s.svc.PostMessage(ctx, a, key, o.ID, body, atts); err != nil {
			if !f.setError(attachmentField(err)) {
				s.fail(w, r, err)
				return
			}
		}
	}
	htmx := r.Header.Get("HX-Request") == "true"
	if !f.Failed() {
		if htmx {
			s.renderThread(w, r, o, nil)
			return
		}
		s.redirect(w, r, "/orders/"+o.ID+"#thread", "Message posted.")
		return
	}
	if htmx {
		s.renderThread(w, r, o, f)
		return
	}
	s.showOrder(w, r, http.StatusUnprocessableEntity, &action{Key: "message", Form: f})
}

func (s *Server) renderThread(w http.ResponseWriter, r *http.Request, o *trade.Order, f *form) {
	t, err := s.thread(r.Context(), o, f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderPartial(w, r, "order.html", "thread", t)
}

// errNoOrder is what an unknown action path gets: there is no such page.
var errNoOrder = fault.New(fault.NotFound, "page_not_found", "there is no such page")
