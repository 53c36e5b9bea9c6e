package quality

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/trade"
)

// pdfContract is a confirmed version with every section of the PDF filled: two line items,
// quality requirements with symbols outside Windows-1252 and one the linter finds unclear,
// compliance requirements, attachments, notes, category and markets.
func pdfContract() ContractDoc {
	c := childrensClothing()
	c.Currency, c.Incoterm = "USD", "FOB"
	c.ShipBy = time.Date(2026, 5, 29, 0, 0, 0, 0, time.UTC)
	c.Terms = trade.PaymentTerms{InitialBP: 3000}
	c.LineItems = []trade.LineItem{
		{Description: "Children's zip hoodie, organic cotton, sizes 2T–5T", Quantity: 1200, Unit: "pcs", UnitPrice: 6_50},
		{Description: "Children's joggers, organic cotton, sizes 2T–5T", Quantity: 800, Unit: "pcs", UnitPrice: 4_75},
	}
	c.Quality = append(c.Quality,
		trade.Requirement{Attribute: "Fabric weight", Requirement: "200", Unit: "g/m²", Tolerance: "± 5%", Method: "ISO 3801"},
		trade.Requirement{Attribute: "Color fastness", Requirement: "ΔE ≤ 1.0 after 5 washes", Method: "ISO 105-C06"},
		rq("Stitching", "good quality"))
	for i := range c.Attachments {
		c.Attachments[i].Ref = "sha256:" + strings.Repeat(string("abc"[i]), 64)
		c.Attachments[i].Size = 48_213 * int64(i+1)
	}
	c.Notes = "Lab dip to be approved by the buyer before bulk production. Cartons: 24 pcs each, export grade."
	c.Category, c.Markets = "childrens_apparel", []trade.Market{{Country: "US"}, {Country: "US", Region: "US-CA"}, {Country: "EU"}}
	confirmed := time.Date(2026, 3, 2, 14, 5, 0, 0, time.UTC)
	return ContractDoc{OrderID: "ord_019583c2a1b07e3f9d2c", Buyer: Party{ID: "org_b", Name: "Maple Kids Apparel Inc.", Country: "US"},
		Supplier: Party{ID: "org_s", Name: "Ningbo Sunrise Garments Co. (宁波)", Country: "CN"},
		Version: trade.ContractVersion{Version: 2, Contract: c, Hash: c.Hash(), ProposedBy: "org_s", ConfirmedBy: "org_b",
			ProposedAt: confirmed.Add(-26 * time.Hour), ConfirmedAt: confirmed, Lint: SpecCheck(c)}}
}

// TestContractPDFDeterministic ensures the same contract version always gives the same bytes,
// and another version other bytes. R4
func TestContractPDFDeterministic(t *testing.T) {
	d := pdfContract()
	first, err := ContractPDF(d)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(first, []byte("%PDF-")) || !bytes.HasSuffix(bytes.TrimSpace(first), []byte("%%EOF")) {
		t.Fatalf("not a PDF: %q…", first[:min(20, len(first))])
	}
	for range 5 {
		again, err := ContractPDF(pdfContract())
		if err != nil || !bytes.Equal(again, first) {
			t.Fatalf("a second rendering differs (%d and %d bytes, %v)", len(first), len(again), err)
		}
	}
	d.Version.Contract.LineItems[0].Quantity++
	d.Version.Hash = d.Version.Contract.Hash()
	if other, _ := ContractPDF(d); bytes.Equal(other, first) {
		t.Fatal("another contract gives the same PDF")
	}
}

// TestContractPDFRenders ensures the PDF renders (poppler's pdftoppm turns it into an image with
// text on it) and shows the contract: the parties, line items, requirements and whether each is
// clear, compliance, payment terms, the shipping date, the attachments with their hashes and the
// version hash. It needs poppler-utils (scripts/test installs it) and fails without it. Set
// TRADEASSURE_PDF_OUT to a directory to keep contract.pdf and its page images. R3 R4 R5
func TestContractPDFRenders(t *testing.T) {
	for _, tool := range []string{"pdftoppm", "pdftotext"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: install poppler-utils (apt-get install poppler-utils); scripts/test does", tool)
		}
	}
	d := pdfContract()
	pdf, err := ContractPDF(d)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if out := os.Getenv("TRADEASSURE_PDF_OUT"); out != "" {
		dir = out
	}
	path := filepath.Join(dir, "contract.pdf")
	if err := os.WriteFile(path, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	txt, err := exec.Command("pdftotext", "-layout", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	text := strings.Join(strings.Fields(string(txt)), " ")
	c := d.Version.Contract
	for _, want := range []string{
		"Purchase contract", "ord_019583c2a1b07e3f9d2c", "version 2", d.Version.Hash,
		"Maple Kids Apparel Inc.", "Ningbo Sunrise Garments Co. (??)", // CJK is outside the core fonts
		"FOB (Incoterms 2020)", "Ship on or before 29 May 2026", "USD 11,600.00", "Initial payment 30% (USD 3,480.00)",
		"balance (USD 8,120.00)", "Children's zip hoodie, organic cotton, sizes 2T–5T", "1,200", "USD 6.50", "USD 7,800.00",
		"200 g/m² ± 5% (ISO 3801)", "Delta E <= 1.0 after 5 washes", "Stitching", "UNCLEAR: the industry standard applies (R5)",
		"CPSIA (US) compliant", "design_draft_a.pdf", c.Attachments[0].Ref[:40], "48,213 B",
		"Lab dip to be approved", "childrens_apparel", "US, US-CA, EU", "Proposed by Ningbo Sunrise Garments Co. (??) (supplier)",
		"confirmed by Maple Kids Apparel Inc. (buyer) on 2 March 2026 14:05 UTC", "outside Trade Assurance protection",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF does not show %q", want)
		}
	}
	if t.Failed() {
		t.Logf("text:\n%s", txt)
	}

	prefix := filepath.Join(dir, "contract")
	if out, err := exec.Command("pdftoppm", "-png", "-r", "80", path, prefix).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v: %s", err, out)
	}
	pages, _ := filepath.Glob(prefix + "-*.png")
	if len(pages) == 0 {
		t.Fatal("pdftoppm made no image")
	}
	for _, page := range pages {
		f, err := os.Open(page)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", page, err)
		}
		b := img.Bounds()
		if b.Dx() < 600 || b.Dy() < 850 || b.Dy() < b.Dx() { // A4 portrait at 80 dpi is 661 × 935
			t.Errorf("%s: %v is not an A4 page", page, b)
		}
		if ink := inked(img); ink < 0.01 || ink > 0.3 {
			t.Errorf("%s: %.1f%% of the page is ink: blank, or not text", page, 100*ink)
		}
	}
	if !strings.Contains(text, "Page 1 of "+strconv.Itoa(len(pages))) {
		t.Errorf("the footer does not count %d pages", len(pages))
	}
}

// inked is the share of pixels that are darker than light grey.
func inked(img image.Image) float64 {
	b := img.Bounds()
	dark := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if (r+g+bl)/3 < 0xa000 {
				dark++
			}
		}
	}
	return float64(dark) / float64(b.Dx()*b.Dy())
}

// TestContractPDFGoodsOnly ensures the inspection company's copy shows the goods and the
// requirements it inspects against, and no price, total or payment amount: it never sees the
// money. R15 R16
func TestContractPDFGoodsOnly(t *testing.T) {
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Fatal("pdftotext not found: install poppler-utils (apt-get install poppler-utils); scripts/test does")
	}
	d := pdfContract()
	d.GoodsOnly = true
	pdf, err := ContractPDF(d)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "goods.pdf")
	if err := os.WriteFile(path, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	txt, err := exec.Command("pdftotext", "-layout", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	text := strings.Join(strings.Fields(string(txt)), " ")
	for _, want := range []string{"Children's zip hoodie, organic cotton, sizes 2T–5T", "1,200", "200 g/m² ± 5% (ISO 3801)",
		"Inspection copy", d.Version.Hash} {
		if !strings.Contains(text, want) {
			t.Errorf("the inspection copy does not show %q", want)
		}
	}
	for _, money := range []string{"USD 6.50", "USD 7,800.00", "USD 11,600.00", "Order total", "Initial payment", "Unit price"} {
		if strings.Contains(text, money) {
			t.Errorf("the inspection copy shows %q", money)
		}
	}
}
