package web_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tradeassure/tradeassure/trade"
)

// TestBrowserSupplierDraftsContract drives the contract editor in Chromium: the buyer places an
// order and leaves the contract to the supplier (R4); the supplier drafts it — adding a row
// without JavaScript's help, seeing the specification check update live as a vague requirement
// is typed and fixed (R5), and uploading the design draft (R3); the buyer confirms it and
// downloads the attachment as the order page links it.
func TestBrowserSupplierDraftsContract(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { supplierDrafts(t, newWorld(t, sqliteURL(t))) })
	t.Run("postgres", func(t *testing.T) { supplierDrafts(t, newWorld(t, postgresURL(t))) })
}

func supplierDrafts(t *testing.T, w *world) {
	ctx := browser(t)
	buyer, supplier := w.person(ctx, "buyer"), w.person(ctx, "supplier")
	draft := filepath.Join(t.TempDir(), "hoodie-design-draft.pdf")
	const content = "%PDF-1.4\n% hoodie design draft, browser upload\n%%EOF\n"
	if err := os.WriteFile(draft, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}

	buyer.login()
	buyer.open("/orders/new?supplier=" + w.actors["supplier"].OrgID)
	buyer.do("place an order without a contract",
		chromedp.SetValue(chromedp.ID("f-ship_by"), trade.Day(w.clock.Now()).AddDate(0, 0, 60).Format(time.DateOnly)),
		chromedp.Click(chromedp.ID("f-contract_by-supplier")),
		chromedp.Click(chromedp.ID("f-compliance_confirmed")),
		chromedp.Click(chromedp.CSS("form.order-form button[type=submit]")),
		waitText("drafts the contract next"),
	)
	buyer.stateIs(trade.Draft)
	orderPath := strings.TrimPrefix(run(buyer, "location", chromedp.Location()), w.srv.URL)

	supplier.login()
	supplier.open(orderPath)
	supplier.do("open the editor", chromedp.Click(chromedp.ID("edit-contract")), waitText("Draft the purchase contract"))
	supplier.do("fill a product and add a row",
		chromedp.SendKeys(chromedp.ID("f-line_items-0--description"), "Children's zip hoodie, organic cotton"),
		chromedp.SendKeys(chromedp.ID("f-line_items-0--quantity"), "300"),
		chromedp.SendKeys(chromedp.ID("f-line_items-0--unit"), "pcs"),
		chromedp.SendKeys(chromedp.ID("f-line_items-0--unit_price"), "8.40"),
		chromedp.Click(chromedp.CSS(`button[name="add_row"][value="line_items"]`)),
		chromedp.WaitVisible(chromedp.ID("f-line_items-2--description")),
	)
	if got := run(supplier, "kept", chromedp.Value(chromedp.ID("f-line_items-0--unit_price"))); got != "8.40" {
		t.Errorf("adding a row lost the price typed: %q", got)
	}
	supplier.do("a vague requirement, checked live",
		chromedp.SendKeys(chromedp.ID("f-line_items-1--description"), "Children's joggers, organic cotton"),
		chromedp.SendKeys(chromedp.ID("f-line_items-1--quantity"), "200"),
		chromedp.SendKeys(chromedp.ID("f-line_items-1--unit"), "pcs"),
		chromedp.SendKeys(chromedp.ID("f-line_items-1--unit_price"), "5.10"),
		chromedp.SendKeys(chromedp.ID("f-quality_requirements-0--attribute"), "Stitching"),
		chromedp.SendKeys(chromedp.ID("f-quality_requirements-0--requirement"), "good quality"),
		chromedp.Focus(chromedp.ID("f-quality_requirements-0--unit")), // the change event fires on leaving the field
		waitText("Quality requirement 1 (Stitching)"),
	)
	supplier.do("make it measurable",
		chromedp.SetValue(chromedp.ID("f-quality_requirements-0--attribute"), "Fabric weight"),
		chromedp.SetValue(chromedp.ID("f-quality_requirements-0--requirement"), "200"),
		chromedp.SendKeys(chromedp.ID("f-quality_requirements-0--unit"), "g/m²"),
		chromedp.SendKeys(chromedp.ID("f-quality_requirements-0--tolerance"), "± 5%"),
		chromedp.SendKeys(chromedp.ID("f-quality_requirements-0--method"), "ISO 3801"),
		chromedp.Focus(chromedp.ID("f-notes")),
	)
	supplier.do("the check clears", waitText("Every requirement is quantified clearly enough to judge a dispute on."))
	supplier.do("attach the design draft and propose",
		chromedp.SetUploadFiles(chromedp.ID("f-attachments"), []string{draft}),
		chromedp.Click(chromedp.CSS(".form-buttons button[type=submit]")),
		waitText("Contract proposed."),
	)
	supplier.stateIs(trade.ContractProposed)
	supplier.has("proposal", "hoodie-design-draft.pdf", "USD 3,540.00")

	// R24: the editor and the order page with the proposal fit a phone.
	for _, p := range []struct {
		who  *person
		path string
	}{{supplier, orderPath + "/contract"}, {buyer, orderPath}} {
		p.who.resize(phone)
		p.who.open(p.path) // checks the page at this width
		p.who.resize(laptop)
	}

	buyer.open(orderPath)
	buyer.has("the supplier's draft", "Proposed by Ningbo Sunrise Garments Co.", "Children's joggers", "hoodie-design-draft.pdf")
	buyer.submit("confirm-contract", "Contract confirmed.")
	buyer.stateIs(trade.Confirmed)
	href := run(buyer, "link", chromedp.AttributeValue(chromedp.CSS("ul.attachments a"), "href"))
	if !strings.HasPrefix(href.Value, orderPath+"/attachments/sha256:") {
		t.Fatalf("the attachment links to %q", href.Value)
	}
	got := run(buyer, "download", chromedp.Evaluate[string](`fetch(document.querySelector("ul.attachments a").href).then(async r =>
		r.status + "|" + r.headers.get("content-type") + "|" + r.headers.get("content-disposition") + "|" + await r.text())`, chromedp.EvalAwaitPromise))
	want := "200|application/pdf|attachment; filename=hoodie-design-draft.pdf|" + content
	if got != want {
		t.Errorf("download in the browser: %q, want %q", got, want)
	}

	// R23: a message with an attachment, posted through htmx, links the file in the thread.
	label := filepath.Join(t.TempDir(), "care-label.pdf")
	if err := os.WriteFile(label, []byte("%PDF-1.4\n% care label\n%%EOF\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	buyer.do("post a message with a file",
		chromedp.SendKeys(chromedp.ID("f-body"), "The care label, as agreed."),
		chromedp.SetUploadFiles(chromedp.ID("f-attachments"), []string{label}),
		chromedp.Click(chromedp.CSS("#thread button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(`#thread ol.messages a[href*="/attachments/sha256:"]`)),
	)
	buyer.has("thread", "The care label, as agreed.", "care-label.pdf")
}
