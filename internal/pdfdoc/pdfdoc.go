// Package pdfdoc is the page furniture the platform's PDFs share — the purchase contract
// (package quality) and the Pay Later statement (package credit): A4 pages with the PDF core
// fonts, section headings, wrapped paragraphs, tables whose cells wrap, a footer, and text made
// printable in Windows-1252. Core fonts embed no font file, so the same document always gives
// the same bytes.
package pdfdoc

import (
	"bytes"
	"strconv"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"
)

// The page: A4 portrait in millimetres.
const (
	Margin = 15.0
	Width  = 210.0 - 2*Margin // the text width
	Line   = 4.6              // the height of a line of body text
)

// Doc is a PDF being written.
type Doc struct {
	F *fpdf.Fpdf
	// BodySize is the point size of paragraphs and table cells.
	BodySize float64
	tr       func(string) string
}

// New starts an A4 portrait document with body text of size points.
func New(size float64) *Doc {
	f := fpdf.New("P", "mm", "A4", "")
	return &Doc{F: f, BodySize: size, tr: f.UnicodeTranslatorFromDescriptor("")} // Windows-1252
}

// Meta is what a document says about itself. At dates it (created and modified), so that the
// same document always gives the same bytes.
type Meta struct {
	Title, Subject string
	At             time.Time
}

// Render sets the metadata and the page setup, calls footer on every page and body once, and
// returns the document's bytes.
func (d *Doc) Render(m Meta, footer, body func()) ([]byte, error) {
	f := d.F
	f.SetCreationDate(m.At)
	f.SetModificationDate(m.At)
	f.SetCatalogSort(true)
	f.SetCompression(true)
	f.SetProducer("tradeassure", false)
	f.SetCreator("tradeassure", false)
	f.SetTitle(d.T(m.Title), false)
	if m.Subject != "" {
		f.SetSubject(d.T(m.Subject), false)
	}
	f.SetMargins(Margin, Margin, Margin)
	f.SetAutoPageBreak(false, Margin+8)
	f.AliasNbPages("{nb}")
	f.SetFooterFunc(footer)
	f.AddPage()
	body()
	if err := f.Error(); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := f.Output(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// symbols spells out common characters that Windows-1252 lacks.
var symbols = strings.NewReplacer("≤", "<=", "≥", ">=", "≠", "!=", "Δ", "Delta ", "−", "-", "→", "->",
	"←", "<-", "✓", "yes", "✗", "no", "ø", "o", "Ø", "O", "\t", " ", "\r", "")

// T makes text printable in a core font: symbols spelled out, the rest to Windows-1252, and
// anything else "?".
func (d *Doc) T(s string) string {
	s = symbols.Replace(s)
	var b strings.Builder
	for _, r := range s {
		if r < 0x80 {
			b.WriteRune(r)
			continue
		}
		if enc := d.tr(string(r)); enc != "." {
			b.WriteString(enc)
		} else {
			b.WriteByte('?')
		}
	}
	return b.String()
}

// Heading starts a section, on a new page if fewer than a few lines remain.
func (d *Doc) Heading(title string) {
	d.Room(16)
	d.F.Ln(3)
	d.F.SetFont("Helvetica", "B", 11.5)
	d.F.SetTextColor(20, 45, 90)
	d.F.CellFormat(Width, 6.5, d.T(title), "B", 1, "L", false, 0, "")
	d.F.SetTextColor(0, 0, 0)
	d.F.Ln(1)
}

// Para writes wrapped body text.
func (d *Doc) Para(text string) {
	d.F.SetFont("Helvetica", "", d.BodySize)
	for _, line := range d.F.SplitLines([]byte(d.T(text)), Width) {
		d.Room(Line)
		d.F.CellFormat(Width, Line, string(line), "", 1, "L", false, 0, "")
	}
}

// Room starts a new page unless h millimetres fit above the footer.
func (d *Doc) Room(h float64) {
	_, pageH := d.F.GetPageSize()
	if d.F.GetY()+h > pageH-Margin-8 {
		d.F.AddPage()
	}
}

// Header writes a table's header row.
func (d *Doc) Header(w []float64, titles ...string) {
	d.Room(2 * Line)
	d.F.SetFont("Helvetica", "B", 8.5)
	d.F.SetFillColor(225, 231, 240)
	for i, t := range titles {
		d.F.CellFormat(w[i], 5.5, d.T(t), "1", 0, "L", true, 0, "")
	}
	d.F.Ln(-1)
}

// Row writes one table row whose cells wrap; styles are "", "B" or "mono" per cell (missing
// ones are ""), aligns "L" (the default), "R" or "C".
func (d *Doc) Row(w []float64, cells []string, styles []string, border bool, aligns ...string) {
	f := d.F
	lines := make([][][]byte, len(cells))
	n := 1
	for i, c := range cells {
		d.font(at(styles, i))
		lines[i] = f.SplitLines([]byte(d.T(c)), w[i]-1)
		if len(lines[i]) == 0 {
			lines[i] = [][]byte{nil}
		}
		n = max(n, len(lines[i]))
	}
	h := float64(n)*Line + 1
	d.Room(h)
	x, y := f.GetX(), f.GetY()
	for i := range cells {
		d.font(at(styles, i))
		if border {
			f.Rect(x, y, w[i], h, "D")
		}
		align := at(aligns, i)
		if align == "" {
			align = "L"
		}
		for j, l := range lines[i] {
			f.SetXY(x, y+0.5+float64(j)*Line)
			f.CellFormat(w[i], Line, string(l), "", 0, align, false, 0, "")
		}
		x += w[i]
	}
	f.SetXY(Margin, y+h)
}

// All repeats one style or alignment for n cells.
func All(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func at(xs []string, i int) string {
	if i < len(xs) {
		return xs[i]
	}
	return ""
}

func (d *Doc) font(style string) {
	switch style {
	case "mono":
		d.F.SetFont("Courier", "", d.BodySize-1.5)
	case "B":
		d.F.SetFont("Helvetica", "B", d.BodySize)
	default:
		d.F.SetFont("Helvetica", "", d.BodySize)
	}
}

// Footer writes text over a rule at the foot of the page, with "Page n of N" (the document
// must alias {nb}).
func (d *Doc) Footer(text string) {
	f := d.F
	_, pageH := f.GetPageSize()
	f.SetXY(Margin, pageH-Margin-6)
	f.SetFont("Helvetica", "", 7)
	f.SetTextColor(90, 90, 90)
	f.CellFormat(Width, 3.5, d.T(text), "T", 2, "L", false, 0, "")
	f.CellFormat(Width, 3.5, "Page "+strconv.Itoa(f.PageNo())+" of {nb}", "", 0, "R", false, 0, "")
	f.SetTextColor(0, 0, 0)
}
