package credit

import (
	"fmt"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"

	"github.com/tradeassure/tradeassure/internal/pdfdoc"
	"github.com/tradeassure/tradeassure/money"
)

// The statement page: A4 portrait in millimetres, as the contract PDF (package quality).
const (
	pdfMargin = pdfdoc.Margin
	pdfWidth  = pdfdoc.Width
	pdfLine   = pdfdoc.Line
)

// PDF renders the statement as a PDF (R11): the period and its status, the totals, the payment
// due and anything past due, then every posting with the running balance. The same statement
// always gives the same bytes: the text is set in the PDF core fonts (Helvetica, Courier; no
// embedded font files), the PDF's dates are the end of the statement's period, not the time it
// was rendered, and its catalogs are sorted. Text outside Windows-1252 prints as "?".
func (st Statement) PDF() ([]byte, error) {
	pd := pdfdoc.New(8.5)
	p := &statementPDF{Doc: pd, f: pd.F, st: st}
	b, err := pd.Render(pdfdoc.Meta{Title: "Pay Later statement, " + monthName(st.Period) + ", line " + st.LineID,
		At: st.Period.End()}, p.footer, p.render)
	if err != nil {
		return nil, fmt.Errorf("credit: statement pdf: %w", err)
	}
	return b, nil
}

// statementPDF is one rendering.
type statementPDF struct {
	*pdfdoc.Doc
	f  *fpdf.Fpdf
	st Statement
}

// row writes one bordered table row in one style ("" or "B"), aligned per cell.
func (p *statementPDF) row(w []float64, cells []string, style string, aligns ...string) {
	p.Row(w, cells, pdfdoc.All(style, len(cells)), true, aligns...)
}

// decimal writes an amount with thousands separators: 1,234,567.89.
func (p *statementPDF) decimal(a money.Amount) string { return money.GroupThousands(a.Decimal()) }

func monthName(p Period) string { return p.Start().Format("January 2006") }

func longDate(t time.Time) string { return t.UTC().Format("2 January 2006") }

func (p *statementPDF) render() {
	st, f := p.st, p.f
	f.SetFont("Helvetica", "B", 18)
	f.CellFormat(pdfWidth, 9, "Pay Later statement", "", 1, "L", false, 0, "")
	f.SetFont("Helvetica", "", 10)
	last := st.Period.End().AddDate(0, 0, -1)
	f.CellFormat(pdfWidth, 5.5, p.T(fmt.Sprintf("%s: %s to %s (UTC)", monthName(st.Period), longDate(st.Period.Start()), longDate(last))),
		"", 1, "L", false, 0, "")
	status := "In progress: this month has not closed yet, so the figures below may still change."
	if st.Status == StatementClosed {
		status = "Closed on " + st.ClosedAt.UTC().Format("2 January 2006 15:04 UTC") + "; this statement never changes."
	}
	f.SetFont("Helvetica", "", 8.5)
	f.CellFormat(pdfWidth, pdfLine, p.T(fmt.Sprintf("Line %s · buyer %s", st.LineID, st.BuyerID)), "", 1, "L", false, 0, "")
	f.CellFormat(pdfWidth, pdfLine, p.T(status), "", 1, "L", false, 0, "")

	p.Heading("Summary")
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

	p.Heading("Payment due")
	switch {
	case st.NextDueDate.IsZero():
		p.Para("No payment is scheduled after this month.")
	default:
		p.row(w, []string{"Next payment due on " + longDate(st.NextDueDate), p.money(st.NextDueAmount)}, "B", "L", "R")
		p.Para("It is debited automatically from your linked business checking account on that date.")
	}
	if st.PastDue.IsPositive() {
		p.row(w, []string{"Past due", p.money(st.PastDue)}, "B", "L", "R")
		p.Para(fmt.Sprintf("A refused debit is retried %d and %d US business days later; no late fee is charged. "+
			"A loan past due for %d days is charged off and the line closed.",
			DebitRetry1BusinessDays, DebitRetry2BusinessDays, ChargeOffDaysPastDue))
	}

	p.Heading("Transactions")
	tw := []float64{22, 20, 44, 50, 22, 22}
	p.Header(tw, "Date", "Type", "Loan", "Description", "Amount", "Balance")
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

// footer names the line and the period on every page, with the page number.
func (p *statementPDF) footer() {
	p.Footer("Pay Later line " + p.st.LineID + " · statement " + p.st.Period.String() +
		" · Pay Later is financed by a third-party lender (R11)")
}
