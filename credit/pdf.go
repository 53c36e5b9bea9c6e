package credit

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"

	"github.com/tradeassure/tradeassure/money"
)

// The statement page: A4 portrait in millimetres, as the contract PDF (package quality).
const (
	pdfMargin = 15.0
	pdfWidth  = 210.0 - 2*pdfMargin
	pdfLine   = 4.6 // the height of a line of body text
)

// PDF renders the statement as a PDF (R11): the period and its status, the totals, the payment
// due and anything past due, then every posting with the running balance. The same statement
// always gives the same bytes: the text is set in the PDF core fonts (Helvetica, Courier; no
// embedded font files), the PDF's dates are the end of the statement's period, not the time it
// was rendered, and its catalogs are sorted. Text outside Windows-1252 prints as "?".
func (st Statement) PDF() ([]byte, error) {
	p := &statementPDF{f: fpdf.New("P", "mm", "A4", ""), st: st}
	p.tr = p.f.UnicodeTranslatorFromDescriptor("") // Windows-1252
	f := p.f
	at := st.Period.End()
	f.SetCreationDate(at)
	f.SetModificationDate(at)
	f.SetCatalogSort(true)
	f.SetCompression(true)
	f.SetProducer("tradeassure", false)
	f.SetCreator("tradeassure", false)
	f.SetTitle(p.t("Pay Later statement, "+monthName(st.Period)+", line "+st.LineID), false)
	f.SetMargins(pdfMargin, pdfMargin, pdfMargin)
	f.SetAutoPageBreak(false, pdfMargin+8)
	f.AliasNbPages("{nb}")
	f.SetFooterFunc(p.footer)
	f.AddPage()
	p.render()
	if err := f.Error(); err != nil {
		return nil, fmt.Errorf("credit: statement pdf: %w", err)
	}
	var buf bytes.Buffer
	if err := f.Output(&buf); err != nil {
		return nil, fmt.Errorf("credit: statement pdf: %w", err)
	}
	return buf.Bytes(), nil
}

// statementPDF is one rendering.
type statementPDF struct {
	f  *fpdf.Fpdf
	tr func(string) string
	st Statement
}

func monthName(p Period) string { return p.Start().Format("January 2006") }

func longDate(t time.Time) string { return t.UTC().Format("2 January 2006") }

func (p *statementPDF) render() {
	st, f := p.st, p.f
	f.SetFont("Helvetica", "B", 18)
	f.CellFormat(pdfWidth, 9, "Pay Later statement", "", 1, "L", false, 0, "")
	f.SetFont("Helvetica", "", 10)
	last := st.Period.End().AddDate(0, 0, -1)
	f.CellFormat(pdfWidth, 5.5, p.t(fmt.Sprintf("%s: %s to %s (UTC)", monthName(st.Period), longDate(st.Period.Start()), longDate(last))),
		"", 1, "L", false, 0, "")
	status := "In progress: this month has not closed yet, so the figures below may still change."
	if st.Status == StatementClosed {
		status = "Closed on " + st.ClosedAt.UTC().Format("2 January 2006 15:04 UTC") + "; this statement never changes."
	}
	f.SetFont("Helvetica", "", 8.5)
	f.CellFormat(pdfWidth, pdfLine, p.t(fmt.Sprintf("Line %s · buyer %s", st.LineID, st.BuyerID)), "", 1, "L", false, 0, "")
	f.CellFormat(pdfWidth, pdfLine, p.t(status), "", 1, "L", false, 0, "")

	p.heading("Summary")
	w := []float64{pdfWidth - 50, 50}
	rows := [][2]string{
		{"Opening balance", p.money(st.Opening)},
		{"Draws", p.money(st.Draws)},
		{"Fees", p.money(st.Fees)},
		{"Credits (first-month fee credit)", p.money(st.Credits.Neg())},
		{"Payments", p.money(st.Payments.Neg())},
		{"Refunds applied", p.money(st.Refunds.Neg())},
	}
	if st.ChargedOff.IsPositive() {
		rows = append(rows, [2]string{"Charged off", p.money(st.ChargedOff.Neg())})
	}
	for _, r := range rows {
		p.row(w, []string{r[0], r[1]}, "", "L", "R")
	}
	p.row(w, []string{"Closing balance", p.money(st.Closing)}, "B", "L", "R")

	p.heading("Payment due")
	switch {
	case st.NextDueDate.IsZero():
		p.para("No payment is scheduled after this month.")
	default:
		p.row(w, []string{"Next payment due on " + longDate(st.NextDueDate), p.money(st.NextDueAmount)}, "B", "L", "R")
		p.para("It is debited automatically from your linked business checking account on that date.")
	}
	if st.PastDue.IsPositive() {
		p.row(w, []string{"Past due", p.money(st.PastDue)}, "B", "L", "R")
		p.para(fmt.Sprintf("A refused debit is retried %d and %d US business days later; no late fee is charged. "+
			"A loan past due for %d days is charged off and the line closed.",
			DebitRetry1BusinessDays, DebitRetry2BusinessDays, ChargeOffDaysPastDue))
	}

	p.heading("Transactions")
	tw := []float64{22, 20, 44, 50, 22, 22}
	p.header(tw, "Date", "Type", "Loan", "Description", "Amount", "Balance")
	p.row(tw, []string{longDateShort(st.Period.Start()), "opening", "", "Opening balance", "", p.decimal(st.Opening)}, "",
		"L", "L", "L", "L", "R", "R")
	for _, l := range st.Lines {
		p.row(tw, []string{longDateShort(l.At), strings.ReplaceAll(string(l.Kind), "_", " "), l.LoanID, l.Description,
			p.decimal(l.Amount), p.decimal(l.Balance)}, "", "L", "L", "L", "L", "R", "R")
	}
	p.row(tw, []string{longDateShort(last), "closing", "", "Closing balance", "", p.decimal(st.Closing)}, "B",
		"L", "L", "L", "L", "R", "R")
}

func longDateShort(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// money writes an amount as "USD 1,234.56".
func (p *statementPDF) money(a money.Amount) string { return string(a.Currency) + " " + p.decimal(a) }

// decimal writes an amount with thousands separators: 1,234,567.89.
func (p *statementPDF) decimal(a money.Amount) string {
	whole, frac, hasFrac := strings.Cut(a.Decimal(), ".")
	neg := strings.HasPrefix(whole, "-")
	whole = strings.TrimPrefix(whole, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if hasFrac {
		b.WriteString("." + frac)
	}
	return b.String()
}

// pdfSymbols spells out common characters that Windows-1252 lacks.
var pdfSymbols = strings.NewReplacer("−", "-", "→", "->", "≤", "<=", "≥", ">=", "\t", " ", "\r", "")

// t makes text printable in a core font: symbols spelled out, the rest to Windows-1252, and
// anything else "?".
func (p *statementPDF) t(s string) string {
	s = pdfSymbols.Replace(s)
	var b strings.Builder
	for _, r := range s {
		if r < 0x80 {
			b.WriteRune(r)
			continue
		}
		if enc := p.tr(string(r)); enc != "." {
			b.WriteString(enc)
		} else {
			b.WriteByte('?')
		}
	}
	return b.String()
}

// heading starts a section, on a new page if fewer than a few lines remain.
func (p *statementPDF) heading(title string) {
	p.room(16)
	p.f.Ln(3)
	p.f.SetFont("Helvetica", "B", 11.5)
	p.f.SetTextColor(20, 45, 90)
	p.f.CellFormat(pdfWidth, 6.5, p.t(title), "B", 1, "L", false, 0, "")
	p.f.SetTextColor(0, 0, 0)
	p.f.Ln(1)
}

// para writes wrapped body text.
func (p *statementPDF) para(text string) {
	p.f.SetFont("Helvetica", "", 8.5)
	for _, line := range p.f.SplitLines([]byte(p.t(text)), pdfWidth) {
		p.room(pdfLine)
		p.f.CellFormat(pdfWidth, pdfLine, string(line), "", 1, "L", false, 0, "")
	}
}

// room starts a new page unless h millimetres fit above the footer.
func (p *statementPDF) room(h float64) {
	_, pageH := p.f.GetPageSize()
	if p.f.GetY()+h > pageH-pdfMargin-8 {
		p.f.AddPage()
	}
}

// header writes a table's header row.
func (p *statementPDF) header(w []float64, titles ...string) {
	p.room(2 * pdfLine)
	p.f.SetFont("Helvetica", "B", 8.5)
	p.f.SetFillColor(225, 231, 240)
	for i, t := range titles {
		p.f.CellFormat(w[i], 5.5, p.t(t), "1", 0, "L", true, 0, "")
	}
	p.f.Ln(-1)
}

// row writes one bordered table row whose cells wrap, in style "" or "B", aligned per cell.
func (p *statementPDF) row(w []float64, cells []string, style string, aligns ...string) {
	f := p.f
	f.SetFont("Helvetica", style, 8.5)
	lines := make([][][]byte, len(cells))
	n := 1
	for i, c := range cells {
		lines[i] = f.SplitLines([]byte(p.t(c)), w[i]-1)
		if len(lines[i]) == 0 {
			lines[i] = [][]byte{nil}
		}
		n = max(n, len(lines[i]))
	}
	h := float64(n)*pdfLine + 1
	p.room(h)
	x, y := f.GetX(), f.GetY()
	for i := range cells {
		f.Rect(x, y, w[i], h, "D")
		for j, l := range lines[i] {
			f.SetXY(x, y+0.5+float64(j)*pdfLine)
			f.CellFormat(w[i], pdfLine, string(l), "", 0, aligns[i], false, 0, "")
		}
		x += w[i]
	}
	f.SetXY(pdfMargin, y+h)
}

// footer names the line and the period on every page, with the page number.
func (p *statementPDF) footer() {
	f := p.f
	_, pageH := f.GetPageSize()
	f.SetXY(pdfMargin, pageH-pdfMargin-6)
	f.SetFont("Helvetica", "", 7)
	f.SetTextColor(90, 90, 90)
	f.CellFormat(pdfWidth, 3.5, p.t("Pay Later line "+p.st.LineID+" · statement "+p.st.Period.String()+
		" · Pay Later is financed by a third-party lender (R11)"), "T", 2, "L", false, 0, "")
	f.CellFormat(pdfWidth, 3.5, "Page "+strconv.Itoa(f.PageNo())+" of {nb}", "", 0, "R", false, 0, "")
	f.SetTextColor(0, 0, 0)
}
