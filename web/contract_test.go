package web_test

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/trade"
	"github.com/tradeassure/tradeassure/web"
)

// upFile is one file of a multipart post: the input it is in, its name and its content.
type upFile struct {
	input, name, ctype string
	body               io.Reader
}

// pdf is a small PDF file's content.
func pdf(note string) io.Reader { return strings.NewReader("%PDF-1.4\n% " + note + "\n%%EOF\n") }

// multipart posts a form with files as a browser does: the fields first, then the files,
// streamed so that a large file is never held in memory.
func (c *client) multipart(path string, v url.Values, files ...upFile) response {
	c.w.t.Helper()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		err := func() error {
			for k, xs := range v {
				for _, x := range xs {
					if err := mw.WriteField(k, x); err != nil {
						return err
					}
				}
			}
			for _, f := range files {
				h := textproto.MIMEHeader{}
				h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, f.input, f.name))
				h.Set("Content-Type", f.ctype)
				part, err := mw.CreatePart(h)
				if err != nil {
					return err
				}
				if _, err := io.Copy(part, f.body); err != nil {
					return err
				}
			}
			return mw.Close()
		}()
		pw.CloseWithError(err)
	}()
	req, _ := http.NewRequest("POST", c.w.srv.URL+path, pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", c.w.srv.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return c.do(req)
}

// editor opens the contract editor of the order and returns the form's hidden fields.
func (c *client) editor(orderID string) (url.Values, string) {
	c.w.t.Helper()
	res := c.get("/orders/" + orderID + "/contract")
	if res.status != http.StatusOK {
		c.w.t.Fatalf("editor of %s: %d\n%s", orderID, res.status, res.body)
	}
	v := url.Values{"idempotency_key": {formKey(c.w.t, res.body, "/orders/"+orderID+"/contract")}}
	for _, name := range []string{"version", "line_rows", "quality_rows", "compliance_rows"} {
		m := regexp.MustCompile(`name="` + name + `" value="([0-9]+)"`).FindStringSubmatch(res.body)
		if m == nil {
			c.w.t.Fatalf("the editor has no %s", name)
		}
		v.Set(name, m[1])
	}
	return v, res.body
}

// draft fills v with a clear contract (R3, R5) shipping in 45 days.
func (w *world) draft(v url.Values) url.Values {
	v.Set("incoterm", "FOB")
	v.Set("ship_by", trade.Day(w.clock.Now()).AddDate(0, 0, 45).Format(time.DateOnly))
	v.Set("payment_terms.initial_bp", "3000")
	v.Set("line_items[0].description", "Children's zip hoodie, organic cotton, 2T–5T")
	v.Set("line_items[0].quantity", "500")
	v.Set("line_items[0].unit", "pcs")
	v.Set("line_items[0].unit_price", "7.20")
	v.Set("quality_requirements[0].attribute", "Fabric weight")
	v.Set("quality_requirements[0].requirement", "200")
	v.Set("quality_requirements[0].unit", "g/m²")
	v.Set("quality_requirements[0].tolerance", "± 5%")
	v.Set("quality_requirements[0].method", "ISO 3801")
	v.Set("compliance_requirements[0].attribute", "CPSIA (US) compliant")
	v.Set("compliance_requirements[0].requirement", "yes")
	return v
}

// placeWithoutContract places an order through the checkout form, leaving the contract to the
// supplier (R4: either party drafts it).
func (w *world) placeWithoutContract(buyer *client) *trade.Order {
	w.t.Helper()
	page := buyer.get("/orders/new?supplier=" + w.actors["supplier"].OrgID)
	res := buyer.post("/orders/new", url.Values{"idempotency_key": {formKey(w.t, page.body, "/orders/new")},
		"supplier_id": {w.actors["supplier"].OrgID}, "currency": {"USD"}, "incoterm": {"FOB"},
		"payment_terms.initial_bp": {"3000"}, "contract_by": {"supplier"}, "compliance_confirmed": {"yes"},
		"ship_by": {trade.Day(w.clock.Now()).AddDate(0, 0, 60).Format(time.DateOnly)}})
	if res.status != http.StatusSeeOther {
		w.t.Fatalf("place without a contract: %d\n%s", res.status, res.body)
	}
	return mustOrder(w, res.header.Get("Location"))
}

// TestContractDraftedBySupplier ensures a buyer can place an order and leave the contract to
// the supplier, who drafts it in the editor with an attachment; the buyer confirms it and
// downloads the attachment (R3, R4).
func TestContractDraftedBySupplier(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { draftedBySupplier(t, newWorld(t, sqliteURL(t))) })
	t.Run("postgres", func(t *testing.T) { draftedBySupplier(t, newWorld(t, postgresURL(t))) })
}

func draftedBySupplier(t *testing.T, w *world) {
	buyer, supplier := w.login("buyer"), w.login("supplier")
	o := w.placeWithoutContract(buyer)
	if o.State != trade.Draft || o.Proposal != nil {
		t.Fatalf("an order left to the supplier is %s with proposal %v", o.State, o.Proposal)
	}
	if page := buyer.get("/orders/" + o.ID); !strings.Contains(page.body, "No contract has been proposed yet") {
		t.Errorf("the buyer's order page does not say the contract is still to be drafted")
	}

	v, page := supplier.editor(o.ID)
	if !strings.Contains(page, "Draft the purchase contract") || !strings.Contains(page, `id="f-attachments"`) {
		t.Fatalf("the supplier's editor lacks its title or file input:\n%s", page)
	}
	res := supplier.multipart("/orders/"+o.ID+"/contract", w.draft(v),
		upFile{"attachments", "hoodie design draft.pdf", "application/pdf", pdf("hoodie design draft")})
	if res.status != http.StatusSeeOther {
		t.Fatalf("propose: %d\n%s", res.status, res.body)
	}
	o = mustOrder(w, "/orders/"+o.ID)
	if o.State != trade.ContractProposed || o.Proposal.ProposedBy != w.actors["supplier"].OrgID {
		t.Fatalf("after the supplier's draft: %s, proposal %+v", o.State, o.Proposal)
	}
	atts := o.Proposal.Contract.Attachments
	if len(atts) != 1 || atts[0].Name != "hoodie design draft.pdf" || atts[0].MediaType != "application/pdf" {
		t.Fatalf("attachments %+v", atts)
	}
	if got := o.Proposal.Contract.LineItems; len(got) != 1 || got[0].UnitPrice != 7_20 || got[0].Quantity != 500 {
		t.Errorf("line items %+v", got)
	}

	// The supplier cannot confirm their own draft; the buyer can (R4).
	if strings.Contains(supplier.get("/orders/"+o.ID).body, `action="/orders/`+o.ID+`/confirm-contract"`) {
		t.Error("the supplier is offered to confirm their own draft")
	}
	page = buyer.get("/orders/" + o.ID).body
	href := "/orders/" + o.ID + "/attachments/" + atts[0].Ref
	if !strings.Contains(page, `href="`+href+`"`) {
		t.Errorf("the buyer's order page has no download link %s", href)
	}
	res = buyer.post("/orders/"+o.ID+"/confirm-contract", url.Values{"idempotency_key": {formKey(t, page, "/orders/"+o.ID+"/confirm-contract")},
		"version": {fmt.Sprint(o.Version)}, "hash": {o.Proposal.Hash}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("confirm: %d\n%s", res.status, res.body)
	}
	if o = mustOrder(w, "/orders/"+o.ID); o.State != trade.Confirmed || o.Contract().ConfirmedBy != w.actors["buyer"].OrgID {
		t.Fatalf("after the buyer's confirmation: %s", o.State)
	}

	dl := buyer.get(href)
	if dl.status != http.StatusOK || dl.body != "%PDF-1.4\n% hoodie design draft\n%%EOF\n" {
		t.Fatalf("download: %d %q", dl.status, dl.body)
	}
	for h, want := range map[string]string{"Content-Type": "application/pdf", "X-Content-Type-Options": "nosniff",
		"Content-Disposition": `attachment; filename="hoodie design draft.pdf"`} {
		if got := dl.header.Get(h); got != want {
			t.Errorf("download %s = %q, want %q", h, got, want)
		}
	}
}

// TestContractAmendment ensures a confirmed contract stays frozen while a party proposes an
// amendment in the editor, prefilled from the confirmed version, and that the amendment takes
// effect only when the other party confirms it (R4).
func TestContractAmendment(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { amendment(t, newWorld(t, sqliteURL(t))) })
	t.Run("postgres", func(t *testing.T) { amendment(t, newWorld(t, postgresURL(t))) })
}

func amendment(t *testing.T, w *world) {
	o := w.order(trade.Confirmed)
	v1 := *o.Contract()
	buyer, supplier := w.login("buyer"), w.login("supplier")
	if !strings.Contains(buyer.get("/orders/"+o.ID).body, `href="/orders/`+o.ID+`/contract"`) {
		t.Error("the order page has no link to propose an amendment")
	}
	v, page := supplier.editor(o.ID)
	for _, want := range []string{"Propose an amendment", `value="Children&#39;s zip hoodie, organic cotton, 2T–5T"`,
		`value="1200"`, `value="6.50"`, `value="ISO 3801"`, "design_draft_a.pdf"} {
		if !strings.Contains(page, want) {
			t.Errorf("the editor is not prefilled from the confirmed contract: lacks %q", want)
		}
	}
	// Post the form as prefilled, with a later date and a larger first line.
	for _, m := range regexp.MustCompile(`name="([^"]+)" (?:type="[a-z]+" )?value="([^"]*)"`).FindAllStringSubmatch(page, -1) {
		if !v.Has(m[1]) && m[1] != "add_row" {
			v.Set(m[1], htmlUnescape(m[2]))
		}
	}
	newDate := v1.Contract.ShipBy.AddDate(0, 0, 14)
	v.Set("ship_by", newDate.Format(time.DateOnly))
	v.Set("line_items[0].quantity", "1500")
	v.Set("incoterm", "FOB")
	v.Set("payment_terms.initial_bp", "3000")
	res := supplier.multipart("/orders/"+o.ID+"/contract", v)
	if res.status != http.StatusSeeOther {
		t.Fatalf("propose amendment: %d\n%s", res.status, res.body)
	}
	o = mustOrder(w, "/orders/"+o.ID)
	if o.State != trade.Confirmed || len(o.Contracts) != 1 || o.Contract().Hash != v1.Hash || o.Proposal == nil {
		t.Fatalf("a proposed amendment changed the confirmed contract: %s, %d versions", o.State, len(o.Contracts))
	}
	if got := o.Proposal.Contract; got.LineItems[0].Quantity != 1500 || !got.ShipBy.Equal(newDate) || len(got.Attachments) != 2 ||
		len(got.Quality) != 2 || len(got.Compliance) != 1 {
		t.Errorf("the amendment is not the edited contract: %+v", got)
	}

	page = buyer.get("/orders/" + o.ID).body
	if !strings.Contains(page, "Proposed amendment") || !strings.Contains(page, "Confirm the amendment") {
		t.Fatalf("the buyer does not see the amendment to confirm")
	}
	res = buyer.post("/orders/"+o.ID+"/confirm-amendment", url.Values{"idempotency_key": {formKey(t, page, "/orders/"+o.ID+"/confirm-amendment")},
		"version": {fmt.Sprint(o.Version)}, "hash": {o.Proposal.Hash}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("confirm amendment: %d\n%s", res.status, res.body)
	}
	o = mustOrder(w, "/orders/"+o.ID)
	if len(o.Contracts) != 2 || o.Contracts[0].Hash != v1.Hash || o.Contract().Contract.LineItems[0].Quantity != 1500 || !o.ShipBy.Equal(newDate) {
		t.Fatalf("after confirmation: %d versions, v1 %s", len(o.Contracts), o.Contracts[0].Hash)
	}

	// Only the parties propose (R4): the booked inspector gets 409, someone who may not see the
	// order 404, for the page and for a post.
	inspector, foreign := w.login("inspector"), w.foreignBuyer()
	for who, c := range map[string]struct {
		c    *client
		want int
	}{"inspector": {inspector, http.StatusConflict}, "foreign buyer": {foreign, http.StatusNotFound}} {
		if res := c.c.get("/orders/" + o.ID + "/contract"); res.status != c.want {
			t.Errorf("%s opens the editor: %d, want %d", who, res.status, c.want)
		}
		if res := c.c.multipart("/orders/"+o.ID+"/contract", w.draft(url.Values{})); res.status != c.want {
			t.Errorf("%s posts the editor: %d, want %d", who, res.status, c.want)
		}
	}
	if o2 := mustOrder(w, "/orders/"+o.ID); len(o2.Contracts) != 2 || o2.Proposal != nil {
		t.Error("a refused post changed the contract")
	}

	// An order past the point of amendment offers no editor (R4: only before shipment).
	esc := w.order(trade.Escalated)
	if res := supplier.get("/orders/" + esc.ID + "/contract"); res.status != http.StatusConflict {
		t.Errorf("editor of an escalated order: %d", res.status)
	}
	if strings.Contains(supplier.get("/orders/"+esc.ID).body, `href="/orders/`+esc.ID+`/contract"`) {
		t.Error("an escalated order links to the contract editor")
	}
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&#39;", "'", "&amp;", "&", "&lt;", "<", "&gt;", ">", "&#34;", `"`, "&quot;", `"`).Replace(s)
}

// TestContractSpecCheck ensures the editor shows the specification check next to the
// requirements: live through the htmx endpoint, and after a refused submit (R5).
func TestContractSpecCheck(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { specCheck(t, newWorld(t, sqliteURL(t))) })
	t.Run("postgres", func(t *testing.T) { specCheck(t, newWorld(t, postgresURL(t))) })
}

func specCheck(t *testing.T, w *world) {
	o := w.order(trade.Draft)
	supplier := w.login("supplier")
	v, page := supplier.editor(o.ID)
	if !strings.Contains(page, "No requirements yet") {
		t.Error("an empty draft's check does not say it states no requirements")
	}
	v = w.draft(v)
	v.Set("quality_requirements[1].attribute", "Stitching")
	v.Set("quality_requirements[1].requirement", "good quality")

	res := supplier.post("/orders/"+o.ID+"/contract/check", v)
	if res.status != http.StatusOK || !strings.Contains(res.body, `id="spec-check"`) ||
		!strings.Contains(res.body, "Quality requirement 2 (Stitching)") || !strings.Contains(res.body, "sev-error") {
		t.Fatalf("live check of a vague requirement: %d\n%s", res.status, res.body)
	}
	if strings.Contains(res.body, "<html") {
		t.Error("the check answers a whole page, not the partial htmx swaps in")
	}
	v.Set("quality_requirements[1].requirement", "≥ 10 stitches per 3 cm")
	v.Set("quality_requirements[1].method", "visual")
	if res := supplier.post("/orders/"+o.ID+"/contract/check", v); strings.Contains(res.body, "Stitching)") {
		t.Errorf("a measurable requirement is still flagged:\n%s", res.body)
	}

	// A refused submit (a quantity that is not a number) shows the check too, and keeps the rows.
	v.Set("quality_requirements[1].requirement", "good quality")
	v.Set("line_items[0].quantity", "five hundred")
	res = supplier.multipart("/orders/"+o.ID+"/contract", v)
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "Quality requirement 2 (Stitching)") ||
		!strings.Contains(res.body, `id="f-line_items-0--quantity-error"`) || !strings.Contains(res.body, `value="five hundred"`) {
		t.Fatalf("refused submit: %d\n%s", res.status, res.body)
	}
	// Proposed with the vague requirement, the check goes with the proposal to the buyer (R5).
	v.Set("line_items[0].quantity", "500")
	v.Set("idempotency_key", formKey(t, res.body, "/orders/"+o.ID+"/contract"))
	if res := supplier.multipart("/orders/"+o.ID+"/contract", v); res.status != http.StatusSeeOther {
		t.Fatalf("propose: %d\n%s", res.status, res.body)
	}
	page = w.login("buyer").get("/orders/" + o.ID).body
	if !strings.Contains(page, "Specification check (R5)") || !strings.Contains(page, "Quality requirement 2 (Stitching)") {
		t.Errorf("the buyer does not see the proposal's specification check")
	}
}

// TestContractEditorLimits ensures every limit of the editor is enforced with a message next
// to what it is about, keeping what was typed: the rows (the domain's maximums, R3), a file
// too large, a file type not taken, a file that is not what its name says, too many files,
// too many fields.
func TestContractEditorLimits(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { editorLimits(t, newWorld(t, sqliteURL(t))) })
	t.Run("postgres", func(t *testing.T) { editorLimits(t, newWorld(t, postgresURL(t))) })
}

func editorLimits(t *testing.T, w *world) {
	o := w.order(trade.Draft)
	supplier := w.login("supplier")
	base, _ := supplier.editor(o.ID)
	path := "/orders/" + o.ID + "/contract"
	form := func() url.Values {
		v := url.Values{}
		for k, xs := range base {
			v[k] = xs
		}
		return w.draft(v)
	}

	// "Add a row" without JavaScript: one more row, everything typed kept, nothing proposed.
	v := form()
	v.Set("add_row", "line_items")
	res := supplier.multipart(path, v)
	rows := base.Get("line_rows")
	if res.status != http.StatusOK || !strings.Contains(res.body, fmt.Sprintf(`id="f-line_items-%s--description"`, rows)) ||
		!strings.Contains(res.body, `value="7.20"`) {
		t.Fatalf("add a row: %d\n%s", res.status, res.body)
	}
	if mustOrder(w, path[:len(path)-len("/contract")]).Proposal != nil {
		t.Fatal("adding a row proposed the contract")
	}

	theirs, err := w.svc.Upload(w.ctx, w.actors["supplier2"], "theirs", "drawing.pdf", "application/pdf",
		strings.NewReader("%PDF-1.4\n% another supplier's drawing\n%%EOF\n"))
	w.must("another supplier's upload", err)
	cases := []struct {
		name   string
		edit   func(url.Values)
		files  []upFile
		status int
		field  string // the element whose error it is
		want   string
	}{
		{"a row beyond the maximum", func(v url.Values) {
			v.Set("line_rows", fmt.Sprint(trade.LineItemsMax))
			v.Set("add_row", "line_items")
		}, nil, http.StatusOK, "f-line_items-error", fmt.Sprintf("at most %d line items", trade.LineItemsMax)},
		{"more rows than the maximum", func(v url.Values) {
			v.Set("quality_rows", fmt.Sprint(trade.RequirementsMax+1))
		}, nil, http.StatusUnprocessableEntity, "f-quality_requirements-error", fmt.Sprintf("at most %d quality requirements", trade.RequirementsMax)},
		{"a file too large", nil, []upFile{{"attachments", "big.pdf", "application/pdf",
			io.MultiReader(strings.NewReader("%PDF-1.4\n"), io.LimitReader(zeros{}, web.UploadFileMax))}},
			http.StatusUnprocessableEntity, "f-attachments-error", "big.pdf is larger than 25 MB"},
		{"a type not taken", nil, []upFile{{"attachments", "page.html", "text/html", strings.NewReader("<html><script>alert(1)</script>")}},
			http.StatusUnprocessableEntity, "f-attachments-error", "page.html is not a type of file we take"},
		{"content not what the name says", nil, []upFile{{"attachments", "drawing.pdf", "application/pdf", strings.NewReader("<html>not a pdf</html>")}},
			http.StatusUnprocessableEntity, "f-attachments-error", "drawing.pdf is not what its name says"},
		{"too many files", nil, []upFile{{"attachments", "1.pdf", "application/pdf", pdf("1")}, {"attachments", "2.pdf", "application/pdf", pdf("2")},
			{"attachments", "3.pdf", "application/pdf", pdf("3")}, {"attachments", "4.pdf", "application/pdf", pdf("4")},
			{"attachments", "5.pdf", "application/pdf", pdf("5")}, {"attachments", "6.pdf", "application/pdf", pdf("6")}},
			http.StatusUnprocessableEntity, "f-attachments-error", fmt.Sprintf("at most %d files at a time", web.UploadFilesMax)},
		{"a body over UploadBodyMax", nil, bodyOverLimit(), http.StatusUnprocessableEntity, "f-attachments-error",
			"The files together are too large"},
		{"a file another organization uploaded", func(v url.Values) {
			// The drawing is stored (another supplier uploaded it), but knowing its hash does not
			// make it attachable here.
			v.Set("attachments[0].ref", theirs.Ref)
			v.Set("attachments[0].name", "stolen.pdf")
			v.Set("attachments[0].keep", "yes")
		}, nil, http.StatusUnprocessableEntity, "f-attachments-error", "stolen.pdf is not one you uploaded"},
		{"too many fields", func(v url.Values) {
			for i := range web.UploadPartsMax {
				v.Set(fmt.Sprintf("x%d", i), "x")
			}
		}, nil, http.StatusUnprocessableEntity, "", fmt.Sprintf("more than %d fields", web.UploadPartsMax)},
	}
	for _, tc := range cases {
		v := form()
		v.Set("notes", "Kept after "+tc.name)
		if tc.edit != nil {
			tc.edit(v)
		}
		res := supplier.multipart(path, v, tc.files...)
		if res.status != tc.status || !strings.Contains(res.body, tc.want) {
			t.Errorf("%s: %d, want %d with %q\n%s", tc.name, res.status, tc.status, tc.want, res.body)
			continue
		}
		if tc.field != "" && !strings.Contains(res.body, `id="`+tc.field+`"`) {
			t.Errorf("%s: the message is not next to its field (%s)", tc.name, tc.field)
		}
		if tc.name != "too many fields" && !strings.Contains(res.body, "Kept after "+tc.name) {
			t.Errorf("%s: what was typed is lost", tc.name)
		}
	}
	// A body cut off in the middle of a file is the sender's problem, not a server error.
	var cut bytes.Buffer
	mw := multipart.NewWriter(&cut)
	for k, xs := range form() {
		mw.WriteField(k, xs[0])
	}
	mw.WriteField("notes", "Kept after a cut")
	fw, _ := mw.CreateFormFile("attachments", "half.pdf")
	fw.Write([]byte("%PDF-1.4\n% half a file"))
	req, _ := http.NewRequest("POST", w.srv.URL+path, &cut) // no closing boundary
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", w.srv.URL)
	if res := supplier.do(req); res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "interrupted or could not be read") ||
		!strings.Contains(res.body, "Kept after a cut") {
		t.Errorf("a body cut off: %d\n%s", res.status, res.body)
	}

	// The good files of a refused form stay with it (ticked), so they need no second upload.
	res = supplier.multipart(path, form(), upFile{"attachments", "ok.pdf", "application/pdf", pdf("ok")},
		upFile{"attachments", "bad.html", "text/html", strings.NewReader("<html></html>")})
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, `name="attachments[0].keep" value="yes" checked`) ||
		!strings.Contains(res.body, "ok.pdf") {
		t.Fatalf("a refused form does not keep its good file: %d\n%s", res.status, res.body)
	}
	if o := mustOrder(w, "/orders/"+o.ID); o.Proposal != nil {
		t.Error("a refused form proposed the contract")
	}
}

// bodyOverLimit is more than UploadBodyMax bytes of files that are never stored: each is of a
// type not taken, refused before it is read, so the server only counts the bytes going by.
func bodyOverLimit() []upFile {
	n := web.UploadFilesMax + 1
	each := int64(web.UploadBodyMax/n) + 1<<20
	var out []upFile
	for i := range n {
		out = append(out, upFile{"attachments", fmt.Sprintf("part%d.html", i), "text/html", io.LimitReader(zeros{}, each)})
	}
	return out
}

// zeros is an endless stream of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestAttachmentDownloads ensures an attachment is served only to someone who may see the
// order, and only when that order refers to it — in its contract, a message (R23) or an
// inspection report's photos — as a download of the stored type, never sniffed.
func TestAttachmentDownloads(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { downloads(t, newWorld(t, sqliteURL(t))) })
	t.Run("postgres", func(t *testing.T) { downloads(t, newWorld(t, postgresURL(t))) })
}

func downloads(t *testing.T, w *world) {
	o := w.order(trade.InProduction) // its contract carries the two design files
	other := w.order(trade.Draft)
	buyer, supplier, inspector := w.login("buyer"), w.login("supplier"), w.login("inspector")
	ref := w.files[0].Ref
	href := "/orders/" + o.ID + "/attachments/" + ref
	for who, c := range map[string]*client{"buyer": buyer, "supplier": supplier, "inspector": inspector} {
		if res := c.get(href); res.status != http.StatusOK || res.header.Get("Content-Disposition") != `attachment; filename=design_draft_a.pdf` {
			t.Errorf("%s downloads the contract's file: %d %q", who, res.status, res.header.Get("Content-Disposition"))
		}
	}
	// A user of another buyer may not see the order: 404, as for an order that does not exist.
	foreign := w.foreignBuyer()
	if res := foreign.get(href); res.status != http.StatusNotFound {
		t.Errorf("a foreign buyer downloads: %d", res.status)
	}
	// The buyer may see the other order, but it does not refer to the file: 404.
	if res := buyer.get("/orders/" + other.ID + "/attachments/" + ref); res.status != http.StatusNotFound {
		t.Errorf("a file of another order: %d", res.status)
	}
	if res := buyer.get("/orders/" + o.ID + "/attachments/sha256:" + strings.Repeat("0", 64)); res.status != http.StatusNotFound {
		t.Errorf("an unknown ref: %d", res.status)
	}

	// R23: a message with an attachment, downloaded by the other party.
	page := supplier.get("/orders/" + o.ID).body
	res := supplier.multipart("/orders/"+o.ID+"/messages", url.Values{"idempotency_key": {formKey(t, page, "/orders/"+o.ID+"/messages")},
		"body": {"Lab dip attached."}}, upFile{"attachments", "lab-dip.png", "image/png", bytes.NewReader(pngBytes)})
	if res.status != http.StatusSeeOther {
		t.Fatalf("message with attachment: %d\n%s", res.status, res.body)
	}
	msgs, err := w.svc.Messages(w.ctx, w.admin, o.ID)
	w.must("messages", err)
	last := msgs[len(msgs)-1]
	if len(last.Attachments) != 1 || last.Attachments[0].MediaType != "image/png" {
		t.Fatalf("the message's attachments: %+v", last.Attachments)
	}
	mref := "/orders/" + o.ID + "/attachments/" + last.Attachments[0].Ref
	if !strings.Contains(buyer.get("/orders/"+o.ID).body, `href="`+mref+`"`) {
		t.Error("the thread does not link the message's attachment")
	}
	if res := buyer.get(mref); res.status != http.StatusOK || res.header.Get("Content-Type") != "image/png" || res.body != string(pngBytes) {
		t.Errorf("the buyer downloads the message's attachment: %d %s", res.status, res.header.Get("Content-Type"))
	}
	if res := foreign.get(mref); res.status != http.StatusNotFound {
		t.Errorf("a foreign buyer downloads the message's attachment: %d", res.status)
	}
	// A message's file refused for its type: the message is not posted, and says why.
	page = supplier.get("/orders/" + o.ID).body
	res = supplier.multipart("/orders/"+o.ID+"/messages", url.Values{"idempotency_key": {formKey(t, page, "/orders/"+o.ID+"/messages")},
		"body": {"A script"}}, upFile{"attachments", "x.exe", "application/octet-stream", strings.NewReader("MZ\x90\x00")})
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "x.exe is not a type of file we take") || !strings.Contains(res.body, "A script") {
		t.Errorf("a message with a refused file: %d", res.status)
	}

	// Inspection photos with the inspector's report (R16), downloaded by the buyer.
	page = inspector.get("/orders/" + o.ID).body
	res = inspector.multipart("/orders/"+o.ID+"/report", url.Values{"idempotency_key": {formKey(t, page, "/orders/"+o.ID+"/report")},
		"version": {fmt.Sprint(mustOrder(w, "/orders/"+o.ID).Version)}, "result": {"pass"}, "sample_size": {"125"},
		"findings[0].attribute": {"Fabric weight"}, "findings[0].measured": {"201 g/m²"}, "findings[0].pass": {"yes"},
		"findings[1].attribute": {"Zipper"}, "findings[1].measured": {"YKK"}, "findings[1].pass": {"yes"},
		"findings[2].attribute": {"CPSIA (US) compliant"}, "findings[2].measured": {"yes"}, "findings[2].pass": {"yes"}},
		upFile{"photos", "carton.png", "image/png", bytes.NewReader(pngBytes)})
	if res.status != http.StatusSeeOther {
		t.Fatalf("report with a photo: %d\n%s", res.status, res.body)
	}
	rep := mustOrder(w, "/orders/"+o.ID).Inspection.Reports[0]
	if len(rep.Photos) != 1 || rep.Photos[0].Name != "carton.png" {
		t.Fatalf("the report's photos: %+v", rep.Photos)
	}
	if res := buyer.get("/orders/" + o.ID + "/attachments/" + rep.Photos[0].Ref); res.status != http.StatusOK {
		t.Errorf("the buyer downloads the inspection photo: %d", res.status)
	}
}

// pngBytes is a 1×1 PNG.
var pngBytes = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89" +
	"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")

// foreignBuyer logs in a user of another buying company, who may see none of the world's orders.
func (w *world) foreignBuyer() *client {
	w.t.Helper()
	org, err := w.svc.CreateOrg(w.ctx, w.admin, w.key(), trade.KindBuyer, "Other Buyer GmbH", "DE")
	w.must("create org", err)
	_, err = w.acc.CreateUser(w.ctx, trade.System, org.ID, "other@portal.test", "Other buyer", trade.RoleBuyer, password)
	w.must("create user", err)
	w.emails["other"] = "other@portal.test"
	return w.login("other")
}
