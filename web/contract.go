package web

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/quality"
	"github.com/tradeassure/tradeassure/trade"
)

// EditorSpareRows is how many empty rows the contract editor offers under the filled ones; "add a
// row" adds more, up to the domain's maximums (trade.LineItemsMax, trade.RequirementsMax).
const EditorSpareRows = 2

// contractRoutes registers the pages for contract drafting, amending and attachments.
func (s *Server) contractRoutes(app *http.ServeMux) {
	app.Handle("GET /orders/{id}/contract", s.auth(s.contractPage))
	app.Handle("POST /orders/{id}/contract", s.auth(s.proposeContract))
	app.Handle("POST /orders/{id}/contract/check", s.auth(s.contractCheck))
	app.Handle("GET /orders/{id}/attachments/{ref}", s.auth(s.download))
}

// editMode is what the viewer may do with the order's contract now: the event they may issue
// (propose_contract before confirmation, propose_amendment after, R4) and the page's title, or
// "" when they may do neither. The lifecycle table decides; the domain decides again on submit.
func editMode(o *trade.Order, a trade.Actor) (trade.Event, string) {
	switch {
	case o.Contract() == nil && allowed(o, a.Role, trade.EvProposeContract):
		switch {
		case o.Proposal == nil:
			return trade.EvProposeContract, "Draft the purchase contract"
		case o.Proposal.ProposedBy == a.OrgID:
			return trade.EvProposeContract, "Revise your proposed contract"
		}
		return trade.EvProposeContract, "Propose changes to the contract"
	case o.Contract() != nil && allowed(o, a.Role, trade.EvProposeAmendment):
		if o.Proposal != nil && o.Proposal.ProposedBy == a.OrgID {
			return trade.EvProposeAmendment, "Revise your proposed amendment"
		}
		return trade.EvProposeAmendment, "Propose an amendment"
	}
	return "", ""
}

// editorData is the contract editor page.
type editorData struct {
	O          *trade.Order
	Title      string
	Amend      bool // the contract is confirmed: this proposes an amendment (R4)
	Form       *form
	Lines      []int
	Quality    []int
	Compliance []int
	Incoterms  []string
	Categories []string
	Terms      []int // payment terms offered, in basis points
	Spec       specData
}

// specData is the specification check (R5) of the contract in the form, for the editor and its
// htmx partial.
type specData struct {
	Findings     []specRow
	Requirements int // how many requirements the contract states
}

type specRow struct {
	quality.Finding
	Where string // "Quality requirement 2", "Notes"
}

func (s *Server) contractPage(w http.ResponseWriter, r *http.Request) {
	o, ok := s.editableOrder(w, r)
	if !ok {
		return
	}
	f := newForm(prefill(o))
	s.showEditor(w, r, http.StatusOK, o, f)
}

// editableOrder reads the order and checks the viewer may propose its contract now.
func (s *Server) editableOrder(w http.ResponseWriter, r *http.Request) (*trade.Order, bool) {
	a := actorOf(r)
	o, err := s.svc.Order(r.Context(), a, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return nil, false
	}
	if ev, _ := editMode(o, a); ev == "" {
		s.render(w, r, http.StatusConflict, "error.html", "Not available", errorData{Message: "You cannot propose a " +
			"contract or an amendment for this order now. A confirmed contract is frozen; an amendment is possible " +
			"only before shipment, by the buyer or the supplier."})
		return nil, false
	}
	return o, true
}

// prefill is the editor's form for the contract in force: the open proposal, else the
// confirmed version, else an empty contract in the order's currency and shipping date.
func prefill(o *trade.Order) url.Values {
	v := url.Values{}
	c := trade.Contract{Currency: o.Currency, Incoterm: "FOB", ShipBy: o.ShipBy, Terms: trade.PaymentTerms{InitialBP: 3000}}
	switch {
	case o.Proposal != nil:
		c = o.Proposal.Contract
	case o.Contract() != nil:
		c = o.Contract().Contract
	}
	v.Set("incoterm", c.Incoterm)
	v.Set("ship_by", c.ShipBy.Format(time.DateOnly))
	v.Set("payment_terms.initial_bp", strconv.Itoa(c.Terms.InitialBP))
	v.Set("notes", c.Notes)
	v.Set("category", c.Category)
	v.Set("markets", marketsText(c.Markets))
	for i, li := range c.LineItems {
		v.Set(indexed("line_items", i, "description"), li.Description)
		v.Set(indexed("line_items", i, "quantity"), strconv.FormatInt(li.Quantity, 10))
		v.Set(indexed("line_items", i, "unit"), li.Unit)
		v.Set(indexed("line_items", i, "unit_price"), formatDecimal(li.UnitPrice, c.Currency))
	}
	for _, l := range []struct {
		name string
		rs   []trade.Requirement
	}{{"quality_requirements", c.Quality}, {"compliance_requirements", c.Compliance}} {
		for i, r := range l.rs {
			v.Set(indexed(l.name, i, "attribute"), r.Attribute)
			v.Set(indexed(l.name, i, "requirement"), r.Requirement)
			v.Set(indexed(l.name, i, "unit"), r.Unit)
			v.Set(indexed(l.name, i, "tolerance"), r.Tolerance)
			v.Set(indexed(l.name, i, "method"), r.Method)
		}
	}
	for i, a := range c.Attachments {
		v.Set(indexed("attachments", i, "ref"), a.Ref)
		v.Set(indexed("attachments", i, "name"), a.Name)
		v.Set(indexed("attachments", i, "keep"), "yes")
	}
	// A contract at a maximum gets no spare row: "add a row" says why.
	v.Set("line_rows", strconv.Itoa(min(len(c.LineItems)+EditorSpareRows, trade.LineItemsMax)))
	v.Set("quality_rows", strconv.Itoa(min(len(c.Quality)+EditorSpareRows, trade.RequirementsMax)))
	v.Set("compliance_rows", strconv.Itoa(min(len(c.Compliance)+EditorSpareRows, trade.RequirementsMax)))
	return v
}

// rowLists are the editor's row lists: the form field counting the rows, the list's field
// path, the domain's maximum and what its rows are called.
var rowLists = []struct {
	count, list string
	max         int
	noun        string
}{
	{"line_rows", "line_items", trade.LineItemsMax, "line items"},
	{"quality_rows", "quality_requirements", trade.RequirementsMax, "quality requirements"},
	{"compliance_rows", "compliance_requirements", trade.RequirementsMax, "compliance requirements"},
}

// contractRows is how many rows each list of a contract form has.
type contractRows struct{ Lines, Quality, Compliance int }

// editorRows reads the row counts the form was rendered with, within the domain's maximums; a
// count above one is refused with the maximum named (the form keeps the maximum's rows).
func editorRows(f *form) contractRows {
	n := make([]int, len(rowLists))
	for i, l := range rowLists {
		c, err := strconv.Atoi(f.Value(l.count))
		if err != nil || c < 1 {
			c = 1
		}
		if c > l.max {
			f.add(l.list, fmt.Sprintf("A contract has at most %d %s.", l.max, l.noun))
			c = l.max
		}
		n[i] = c
		f.Values.Set(l.count, strconv.Itoa(c))
	}
	return contractRows{Lines: n[0], Quality: n[1], Compliance: n[2]}
}

// addRow gives the list named by the form's add_row button one more row, up to its maximum.
func addRow(f *form, rows *contractRows) {
	counts := []*int{&rows.Lines, &rows.Quality, &rows.Compliance}
	for i, l := range rowLists {
		if f.Value("add_row") != l.list {
			continue
		}
		if *counts[i] >= l.max {
			f.add(l.list, fmt.Sprintf("A contract has at most %d %s.", l.max, l.noun))
			return
		}
		*counts[i]++
		f.Values.Set(l.count, strconv.Itoa(*counts[i]))
	}
}

func (s *Server) showEditor(w http.ResponseWriter, r *http.Request, status int, o *trade.Order, f *form) {
	ev, title := editMode(o, actorOf(r))
	rows := editorRows(f)
	probe := newForm(f.Values) // the check reads what can be read and ignores the rest
	c, idx := readContract(probe, o.Currency, rows)
	terms := []int{3000, 10000}
	if bp, err := strconv.Atoi(f.Value("payment_terms.initial_bp")); err == nil && bp > 0 && !slices.Contains(terms, bp) {
		terms = append(terms, bp)
	}
	s.render(w, r, status, "contract.html", title, editorData{O: o, Title: title, Amend: ev == trade.EvProposeAmendment,
		Form: f, Lines: seq(rows.Lines), Quality: seq(rows.Quality), Compliance: seq(rows.Compliance),
		Incoterms: trade.Incoterms, Categories: categories, Terms: terms, Spec: specOf(c, idx)})
}

// categories are the product categories the compliance rules know (R5).
var categories = []string{string(quality.CategoryChildrensApparel), string(quality.CategoryToys),
	string(quality.CategoryElectronics), string(quality.CategoryApparel), string(quality.CategoryCosmetics),
	string(quality.CategoryFoodContact), string(quality.CategoryGeneral)}

// specOf lints the contract (R5) and names each finding's row as the form numbers it.
func specOf(c trade.Contract, rows map[string][]int) specData {
	rep := quality.LintContract(c)
	d := specData{Requirements: len(c.Quality) + len(c.Compliance)}
	for _, fd := range rep.Findings {
		for list, idx := range rows {
			fd.Field = remapIndex(fd.Field, list, idx)
		}
		d.Findings = append(d.Findings, specRow{Finding: fd, Where: fieldLabel(fd.Field)})
	}
	return d
}

// fieldLabel names a contract field path for people: "quality_requirements[1]" → "Quality
// requirement 2".
func fieldLabel(field string) string {
	for _, l := range []struct{ list, label string }{{"quality_requirements", "Quality requirement"},
		{"compliance_requirements", "Compliance requirement"}, {"line_items", "Product"}} {
		if rest, ok := strings.CutPrefix(field, l.list+"["); ok {
			if n, err := strconv.Atoi(strings.TrimSuffix(rest, "]")); err == nil {
				return l.label + " " + strconv.Itoa(n+1)
			}
		}
	}
	switch field {
	case "notes":
		return "Notes"
	case "compliance_requirements":
		return "Compliance requirements"
	}
	return "The contract"
}

// contractCheck answers the editor's specification check (R5) for the form as typed: the htmx
// partial the editor swaps in beside the requirements while the person types.
func (s *Server) contractCheck(w http.ResponseWriter, r *http.Request) {
	o, ok := s.editableOrder(w, r)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, UploadFieldsMax) // fields only, held in memory
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	f := newForm(formValues(r.PostForm))
	rows := editorRows(f)
	c, idx := readContract(f, o.Currency, rows)
	s.renderPartial(w, r, "contract.html", "speccheck", specOf(c, idx))
}

// proposeContract proposes the contract (or an amendment, R4) from the editor, with the files
// it uploads as attachments; "add a row" re-shows the form with one more row instead.
func (s *Server) proposeContract(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	o, ok := s.editableOrder(w, r)
	if !ok {
		return
	}
	up, err := s.readUpload(r, "attachments")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f := newForm(formValues(up.values))
	f.Values.Del("idempotency_key")
	up.report(f)
	rows := editorRows(f)
	if f.Value("add_row") != "" {
		addRow(f, &rows)
		f.Values.Del("add_row")
		s.showEditor(w, r, http.StatusOK, o, f)
		return
	}
	key, _ := idempotencyKey(r, f)
	c, idx := readContract(f, o.Currency, rows)
	c.Attachments = s.keptAttachments(ctx, f, o, "attachments", trade.AttachmentsMax)
	if f.Failed() {
		s.showEditor(w, r, http.StatusUnprocessableEntity, o, f)
		return
	}
	var cmd trade.Command = trade.ProposeContract{Contract: c}
	if o.Contract() != nil {
		cmd = trade.ProposeAmendment{Contract: c}
	}
	version, _ := strconv.ParseInt(f.Value("version"), 10, 64)
	if _, err := s.svc.DoIfVersion(ctx, a, key, o.ID, version, cmd); err != nil {
		e, ok := fault.As(err)
		if !ok || e.Code == fault.Internal {
			s.fail(w, r, err)
			return
		}
		c := *e
		for list, rs := range idx {
			c.Field = remapIndex(c.Field, list, rs)
		}
		f.setError(attachmentField(&c))
		s.showEditor(w, r, http.StatusUnprocessableEntity, o, f)
		return
	}
	other := o.SupplierID
	if a.OrgID == o.SupplierID {
		other = o.BuyerID
	}
	what := "Contract proposed."
	if o.Contract() != nil {
		what = "Amendment proposed."
	}
	s.redirect(w, r, "/orders/"+o.ID, what+" "+s.orgName(ctx, other)+" reviews and confirms it next.")
}

// readContract reads a contract form — the checkout's and the editor's — into a contract in
// the currency cur. It records in the form what cannot even be read (a date, a number, a
// price); everything else is the domain's to judge. It returns, for each list, the form row of
// each of the contract's entries: the contract counts only the rows that were filled in.
func readContract(f *form, cur money.Currency, n contractRows) (trade.Contract, map[string][]int) {
	c := trade.Contract{Currency: cur, Incoterm: f.Value("incoterm"), Notes: f.Value("notes"),
		Category: strings.TrimSpace(f.Value("category")), Markets: readMarkets(f)}
	if d, ok := dateField(f, "ship_by", "Give the last day the goods may ship."); ok {
		c.ShipBy = d
	}
	bp, err := strconv.Atoi(f.Value("payment_terms.initial_bp"))
	if err != nil {
		f.add("payment_terms.initial_bp", "Choose the payment terms.")
	}
	c.Terms = trade.PaymentTerms{InitialBP: bp}
	rows := map[string][]int{}
	for i := range n.Lines {
		if li, ok := lineItem(f, i, cur); ok {
			c.LineItems = append(c.LineItems, li)
			rows["line_items"] = append(rows["line_items"], i)
		}
	}
	if len(c.LineItems) == 0 && !f.Failed() {
		f.add("line_items", "Describe at least one product: description, quantity, unit and unit price.")
	}
	c.Quality, rows["quality_requirements"] = requirements(f, "quality_requirements", n.Quality)
	c.Compliance, rows["compliance_requirements"] = requirements(f, "compliance_requirements", n.Compliance)
	return c, rows
}

// lineItem reads row i; a row left entirely empty is skipped.
func lineItem(f *form, i int, cur money.Currency) (trade.LineItem, bool) {
	v := func(sub string) string { return strings.TrimSpace(f.Value(indexed("line_items", i, sub))) }
	desc, qty, unit, price := v("description"), v("quantity"), v("unit"), v("unit_price")
	if desc == "" && qty == "" && unit == "" && price == "" {
		return trade.LineItem{}, false
	}
	li := trade.LineItem{Description: desc, Unit: unit}
	n, err := strconv.ParseInt(qty, 10, 64)
	if err != nil {
		f.add(indexed("line_items", i, "quantity"), "Give a whole number of units.")
	}
	li.Quantity = n
	if cur.Valid() {
		a, err := money.Parse(price, cur)
		if err != nil {
			f.add(indexed("line_items", i, "unit_price"), "Give a price in "+string(cur)+", like 12.50.")
		}
		li.UnitPrice = a.Minor
	}
	return li, true
}

// requirements reads the rows of a requirement list; a row without attribute and requirement
// is skipped.
func requirements(f *form, list string, n int) ([]trade.Requirement, []int) {
	var out []trade.Requirement
	var rows []int
	for i := range n {
		v := func(sub string) string { return strings.TrimSpace(f.Value(indexed(list, i, sub))) }
		r := trade.Requirement{Attribute: v("attribute"), Requirement: v("requirement"), Unit: v("unit"),
			Tolerance: v("tolerance"), Method: v("method")}
		if r == (trade.Requirement{}) {
			continue
		}
		out = append(out, r)
		rows = append(rows, i)
	}
	return out, rows
}

// readMarkets reads the destination markets typed as codes: "US, US-CA, EU" (R5's compliance
// rules depend on them). The domain checks each code.
func readMarkets(f *form) []trade.Market {
	var out []trade.Market
	for _, code := range strings.FieldsFunc(strings.ToUpper(f.Value("markets")), func(r rune) bool { return r == ',' || r == ' ' || r == ';' }) {
		if len(out) > trade.MarketsMax { // the domain refuses more; reading further is pointless
			break
		}
		country, _, _ := strings.Cut(code, "-")
		m := trade.Market{Country: country}
		if strings.Contains(code, "-") {
			m.Region = code
		}
		out = append(out, m)
	}
	return out
}

func marketsText(ms []trade.Market) string {
	var parts []string
	for _, m := range ms {
		parts = append(parts, cmp.Or(m.Region, m.Country))
	}
	return strings.Join(parts, ", ")
}

// contractView is one contract as the order page shows it: the one in force or proposed, or a
// proposed amendment beside the confirmed version.
type contractView struct {
	O          *trade.Order
	C          *trade.Contract
	ShowMoney  bool
	LineTotals []int64
	Total      int64
	Spec       []specRow // the specification check shown with a proposal (R5)
}

func newContractView(o *trade.Order, c *trade.Contract, showMoney bool, lint *trade.SpecCheck) contractView {
	v := contractView{O: o, C: c, ShowMoney: showMoney}
	for _, li := range c.LineItems {
		v.LineTotals = append(v.LineTotals, li.Quantity*li.UnitPrice) // checked by the domain when proposed
	}
	v.Total, _ = c.Total()
	if fs, err := quality.Findings(lint); err == nil {
		for _, f := range fs {
			v.Spec = append(v.Spec, specRow{Finding: f, Where: fieldLabel(f.Field)})
		}
	}
	return v
}

// ContractView is the contract the order page's contract section shows: the confirmed
// version, or before confirmation the proposal with its specification check.
func (d *orderData) ContractView() contractView {
	if d.Confirmed != nil || d.O.Proposal == nil {
		return newContractView(d.O, d.Contract, d.ShowMoney, nil)
	}
	return newContractView(d.O, d.Contract, d.ShowMoney, d.O.Proposal.Lint)
}

// Amendment is a proposed amendment to the confirmed contract (R4), or nil.
func (d *orderData) Amendment() *contractView {
	if d.Confirmed == nil || d.O.Proposal == nil {
		return nil
	}
	v := newContractView(d.O, &d.O.Proposal.Contract, d.ShowMoney, d.O.Proposal.Lint)
	return &v
}

// AmendmentBy names who proposed the open amendment.
func (d *orderData) AmendmentBy() string {
	if d.O.Proposal == nil {
		return ""
	}
	if d.O.Proposal.ProposedBy == d.O.BuyerID {
		return d.Buyer
	}
	return d.Supplier
}

// ContractEdit is the title of the contract editor link the viewer gets, or "" when they may
// not propose the contract or an amendment now.
func (d *orderData) ContractEdit() string {
	_, title := editMode(d.O, d.Viewer.Actor)
	return title
}
