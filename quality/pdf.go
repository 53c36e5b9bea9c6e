package quality

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"

	"github.com/tradeassure/tradeassure/internal/pdfdoc"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/trade"
)

// Party is one side of a contract as the PDF names it.
type Party struct {
	ID      string
	Name    string
	Country string
}

// ContractDoc is what the purchase contract PDF shows: one confirmed version of an order's
// contract and the two parties.
type ContractDoc struct {
	OrderID  string
	Buyer    Party
	Supplier Party
	Version  trade.ContractVersion
	// GoodsOnly is the inspection company's copy: the goods, quantities and requirements it
	// inspects against, without prices, totals or payment amounts, which it never sees.
	GoodsOnly bool
}

// The page: A4 portrait in millimetres.
const (
	pdfMargin = pdfdoc.Margin
	pdfWidth  = pdfdoc.Width
	pdfLine   = pdfdoc.Line
)

// ContractPDF renders a confirmed contract version as a PDF (R3, R4): the parties, the line
// items, the quality and compliance requirements (each marked clear or not, from the
// specification check frozen with it), the payment terms, the shipping date, the attachments
// with their SHA-256 references, and the version's hash, which binds the PDF to the canonical
// JSON the parties confirmed. The same document always gives the same bytes: the PDF's dates are
// the confirmation time and its catalogs are sorted. Text is set in the PDF core fonts, which
// cover Windows-1252; a few common symbols outside it are spelled out (≤ as <=) and any other
// character prints as "?" — the hash, not the PDF, is the contract of record.
func ContractPDF(d ContractDoc) ([]byte, error) {
	pd := pdfdoc.New(9)
	p := &pdfDoc{Doc: pd, f: pd.F, doc: d}
	b, err := pd.Render(pdfdoc.Meta{Title: fmt.Sprintf("Purchase contract, order %s, version %d", d.OrderID, d.Version.Version),
		Subject: d.Version.Hash, At: d.Version.ConfirmedAt.UTC()}, p.footer, p.render)
	if err != nil {
		return nil, fmt.Errorf("quality: contract pdf: %w", err)
	}
	return b, nil
}

// pdfDoc is one rendering.
type pdfDoc struct {
	*pdfdoc.Doc
	f   *fpdf.Fpdf
	doc ContractDoc
}

func (p *pdfDoc) render() {
	d, v := p.doc, p.doc.Version
	c := v.Contract
	f := p.f
	f.SetFont("Helvetica", "B", 18)
	f.CellFormat(pdfWidth, 9, "Purchase contract", "", 1, "L", false, 0, "")
	f.SetFont("Helvetica", "", 10)
	f.CellFormat(pdfWidth, 5.5, p.T(fmt.Sprintf("Trade Assurance order %s · version %d", d.OrderID, v.Version)), "", 1, "L", false, 0, "")
	f.Ln(2)

	f.SetFillColor(240, 243, 247)
	f.SetDrawColor(160, 170, 185)
	f.SetFont("Helvetica", "", 8.5)
	who := f.SplitLines([]byte(p.T(fmt.Sprintf("Proposed by %s on %s; confirmed by %s on %s.",
		p.partyName(v.ProposedBy), stamp(v.ProposedAt), p.partyName(v.ConfirmedBy), stamp(v.ConfirmedAt)))), pdfWidth-6)
	y, boxH := f.GetY(), 13.5+4.5*float64(len(who))
	f.Rect(pdfMargin, y, pdfWidth, boxH, "FD")
	f.SetXY(pdfMargin+3, y+2)
	f.SetFont("Helvetica", "B", 8.5)
	f.CellFormat(pdfWidth-6, 4.5, "Contract version hash (SHA-256 of the canonical JSON both parties confirmed)", "", 2, "L", false, 0, "")
	f.SetFont("Courier", "B", 9.5)
	f.CellFormat(pdfWidth-6, 5, p.T(v.Hash), "", 2, "L", false, 0, "")
	f.SetFont("Helvetica", "", 8.5)
	for _, l := range who {
		f.CellFormat(pdfWidth-6, 4.5, string(l), "", 2, "L", false, 0, "")
	}
	f.SetY(y + boxH + 3)

	p.Heading("Parties")
	half := pdfWidth / 2
	top := f.GetY()
	for i, pt := range []struct {
		role  string
		party Party
	}{{"Buyer", d.Buyer}, {"Supplier", d.Supplier}} {
		f.SetXY(pdfMargin+float64(i)*half, top)
		f.SetFont("Helvetica", "B", 8.5)
		f.CellFormat(half, pdfLine, p.T(pt.role), "", 2, "L", false, 0, "")
		f.SetFont("Helvetica", "", 10)
		f.CellFormat(half, 5.5, p.T(pt.party.Name), "", 2, "L", false, 0, "")
		f.SetFont("Helvetica", "", 8.5)
		f.CellFormat(half, pdfLine, p.T(fmt.Sprintf("%s · %s", pt.party.Country, pt.party.ID)), "", 2, "L", false, 0, "")
	}
	f.SetXY(pdfMargin, top+15)

	total, _ := c.Total()
	initial, _ := c.Initial()
	p.Heading("Terms")
	terms := [][2]string{
		{"Currency", string(c.Currency)},
		{"Incoterm", c.Incoterm + " (Incoterms 2020)"},
		{"Shipping date", "Ship on or before " + c.ShipBy.Format("2 January 2006") + " (R2)"},
	}
	if d.GoodsOnly {
		terms = append(terms, [2]string{"Inspection copy", "Prices, totals and payment terms are left out of the inspection company's copy."})
	} else {
		terms = append(terms, [2]string{"Order total", p.money(total, c.Currency)},
			[2]string{"Payment terms", paymentTerms(c, total, initial, p)})
	}
	if c.Category != "" {
		terms = append(terms, [2]string{"Product category", c.Category})
	}
	if len(c.Markets) > 0 {
		ms := make([]string, len(c.Markets))
		for i, m := range c.Markets {
			ms[i] = m.Country
			if m.Region != "" {
				ms[i] = m.Region
			}
		}
		terms = append(terms, [2]string{"Destination markets", strings.Join(ms, ", ")})
	}
	for _, t := range terms {
		p.Row([]float64{42, pdfWidth - 42}, []string{t[0], t[1]}, []string{"B", ""}, false)
	}

	p.Heading("Line items")
	if d.GoodsOnly {
		w := []float64{8, 138, 20, 14}
		p.Header(w, "#", "Description", "Quantity", "Unit")
		for i, li := range c.LineItems {
			p.Row(w, []string{strconv.Itoa(i + 1), li.Description, money.GroupThousands(strconv.FormatInt(li.Quantity, 10)), li.Unit},
				nil, true, "R", "L", "R", "L")
		}
	} else {
		w := []float64{8, 84, 20, 14, 27, 27}
		p.Header(w, "#", "Description", "Quantity", "Unit", "Unit price", "Line total")
		for i, li := range c.LineItems {
			line := li.Quantity * li.UnitPrice // validated when the contract was confirmed
			p.Row(w, []string{strconv.Itoa(i + 1), li.Description, money.GroupThousands(strconv.FormatInt(li.Quantity, 10)), li.Unit,
				p.money(li.UnitPrice, c.Currency), p.money(line, c.Currency)}, nil, true, "R", "L", "R", "L", "R", "R")
		}
		p.Row([]float64{w[0] + w[1] + w[2] + w[3] + w[4], w[5]}, []string{"Order total", p.money(total, c.Currency)},
			[]string{"B", "B"}, true, "R", "R")
	}

	clear := func(attr string) string {
		if v.Lint == nil {
			return "not checked"
		}
		for _, u := range v.Lint.Unclear {
			if attributeKey(u) == attributeKey(attr) {
				return "UNCLEAR: the industry standard applies (R5)"
			}
		}
		return "clear"
	}
	for _, l := range []struct {
		title string
		reqs  []trade.Requirement
	}{{"Quality requirements (R5)", c.Quality}, {"Compliance requirements", c.Compliance}} {
		p.Heading(l.title)
		if len(l.reqs) == 0 {
			p.Para("None stated.")
			continue
		}
		w := []float64{8, 45, 87, 40}
		p.Header(w, "#", "Attribute", "Requirement", "Specification check")
		for i, r := range l.reqs {
			p.Row(w, []string{strconv.Itoa(i + 1), r.Attribute, RequirementText(r), clear(r.Attribute)}, nil, true, "R")
		}
	}

	p.Heading("Attachments")
	if len(c.Attachments) == 0 {
		p.Para("None.")
	} else {
		w := []float64{8, 50, 27, 17, 78}
		p.Header(w, "#", "Name", "Type", "Size", "Content (SHA-256)")
		for i, a := range c.Attachments {
			p.Row(w, []string{strconv.Itoa(i + 1), a.Name, a.MediaType, money.GroupThousands(strconv.FormatInt(a.Size, 10)) + " B", a.Ref},
				[]string{"", "", "", "", "mono"}, true, "R", "L", "L", "R", "L")
		}
	}
	if strings.TrimSpace(c.Notes) != "" {
		p.Heading("Notes")
		p.Para(c.Notes)
	}

	p.Heading("Specification check")
	switch {
	case v.Lint == nil:
		p.Para("This version was confirmed before the platform checked specifications.")
	case len(v.Lint.Unclear) == 0:
		p.Para("The platform's linter found every requirement clear enough to judge a dispute on. " + lintSummary(v.Lint))
	default:
		p.Para(fmt.Sprintf("The platform's linter found these requirements too unclear to judge a dispute on: %s. "+
			"A dispute about one of them is judged by the inspection company's industry standard (ISO 2859-1, "+
			"general inspection level II, AQL 0 critical / 2.5 major / 4.0 minor), and a refund on it is refused "+
			"if the goods meet that standard (R5, R19a). %s", strings.Join(v.Lint.Unclear, ", "), lintSummary(v.Lint)))
	}
	p.Heading("Scope")
	p.Para("This contract covers the products only (R3). Warranties, replacements and services are outside it and " +
		"outside Trade Assurance protection. Any change is an amendment that both parties confirm again (R4). " +
		"The contract of record is the canonical JSON whose SHA-256 is printed above; this document shows it.")
}

// lintSummary counts a specification check's findings by severity.
func lintSummary(s *trade.SpecCheck) string {
	fs, err := Findings(s)
	if err != nil || len(fs) == 0 {
		return "It made no findings."
	}
	n := map[Severity]int{}
	for _, f := range fs {
		n[f.Severity]++
	}
	var parts []string
	for _, sv := range []Severity{SeverityError, SeverityWarning, SeveritySuggestion} {
		if n[sv] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s%s", n[sv], sv, plural(n[sv])))
		}
	}
	return "Its findings: " + strings.Join(parts, ", ") + "."
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// paymentTerms writes R6's terms with their amounts.
func paymentTerms(c trade.Contract, total, initial int64, p *pdfDoc) string {
	if c.Terms.InitialBP >= trade.BasisPoints {
		return fmt.Sprintf("100%% up front (%s)", p.money(total, c.Currency))
	}
	return fmt.Sprintf("Initial payment %s%% (%s) to start production; the balance (%s) before shipment, after the "+
		"inspection passes. Paid to the platform, which holds it in escrow (R6, R12).",
		percent(c.Terms.InitialBP), p.money(initial, c.Currency), p.money(total-initial, c.Currency))
}

// percent writes basis points as a percentage: 3000 is 30, 3050 is 30.5, 1 is 0.01.
func percent(bp int) string {
	s := fmt.Sprintf("%d.%02d", bp/100, bp%100)
	return strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
}

func (p *pdfDoc) money(minor int64, c money.Currency) string {
	if !c.Valid() {
		return strconv.FormatInt(minor, 10)
	}
	return string(c) + " " + money.GroupThousands(money.New(minor, c).Decimal())
}

// partyName names an organization ID as one of the parties, or gives the ID.
func (p *pdfDoc) partyName(id string) string {
	switch id {
	case p.doc.Buyer.ID:
		return p.doc.Buyer.Name + " (buyer)"
	case p.doc.Supplier.ID:
		return p.doc.Supplier.Name + " (supplier)"
	}
	return id
}

func stamp(t time.Time) string { return t.UTC().Format("2 January 2006 15:04 UTC") }

// footer names the order, the version and its hash on every page, with the page number.
func (p *pdfDoc) footer() {
	p.Footer(fmt.Sprintf("Order %s · contract version %d · %s", p.doc.OrderID, p.doc.Version.Version, p.doc.Version.Hash))
}
