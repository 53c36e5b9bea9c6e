package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/api"
)

var (
	specSheet = []byte("%PDF-1.4\n% spec sheet: fabric 200 gsm, YKK zippers, Pantone 1935 C\n%%EOF\n")
	cartonPNG = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), make([]byte, 64)...)
	labelCSV  = []byte("size,chest_cm\n2T,54\n3T,56\n")
)

// upload posts a file as who, with the given key (a fresh one when empty).
func (w *world) upload(who, name, contentType string, data []byte, key string) resp {
	w.t.Helper()
	if key == "" {
		w.n++
		key = fmt.Sprintf("upload-%d", w.n)
	}
	return w.call(who, "POST", "/v1/files?name="+url.QueryEscape(name), rawBody{contentType: contentType, data: data}, nil,
		"Idempotency-Key", key)
}

// uploaded uploads a file and returns the answer, which is also the attachment to name.
func (w *world) uploaded(who, name, contentType string, data []byte) fileView {
	w.t.Helper()
	r := w.ok(w.upload(who, name, contentType, data, ""), 201)
	var f fileView
	if err := json.Unmarshal(r.body, &f); err != nil {
		w.t.Fatal(err)
	}
	return f
}

// TestFilesThroughHTTP ensures files travel through the API alone: each party uploads a file and
// attaches it — the supplier to its contract proposal (R3), the buyer to a message of the
// order's thread (R23), the inspection company to its report as a photo (R16) — and every party,
// the inspection company and platform staff download each one, as a download of the recorded
// type that no browser sniffs or runs, with the ref as ETag and 304 for a copy already held.
// Another tenant finds no such order, and a file the order does not refer to is not found.
func TestFilesThroughHTTP(t *testing.T) {
	databases(t, func(t *testing.T, w *world) {
		spec := w.uploaded("supplier", "spec sheet.pdf", "application/pdf", specSheet)
		if spec.MediaType != "application/pdf" || spec.Size != int64(len(specSheet)) || spec.Name != "spec sheet.pdf" ||
			!strings.HasPrefix(spec.Ref, "sha256:") {
			t.Fatalf("upload answer %+v", spec)
		}
		label := w.uploaded("buyer", "size chart.csv", "text/csv", labelCSV)
		photo := w.uploaded("inspector", "carton 1.png", "image/png", cartonPNG)

		// R3: the supplier proposes the contract with its spec sheet.
		c := w.contract()
		c["attachments"] = []any{spec}
		var o order
		w.ok(w.call("buyer", "POST", "/v1/orders", map[string]any{"supplier_id": w.ids["supplier"], "currency": "USD",
			"ship_by": c["ship_by"], "compliance_confirmed": true}, &o), 201)
		w.do("buyer", o.ID, "book-inspection", map[string]any{"inspector_id": w.ids["inspector"]})
		o = w.do("supplier", o.ID, "propose-contract", c)
		// R23: the buyer answers in the thread with its size chart, and may pass on the spec sheet
		// the order already refers to.
		w.ok(w.call("buyer", "POST", "/v1/orders/"+o.ID+"/messages", map[string]any{"body": "Our size chart; spec sheet agreed.",
			"attachments": []any{label, spec}}, nil), 201)
		o = w.do("buyer", o.ID, "confirm-contract", map[string]any{"hash": o.Proposal.Hash})
		w.do("buyer", o.ID, "pay", map[string]any{"installment": "initial", "method": "card"})
		w.tick(2 * time.Hour)
		// R16: the inspection company's report carries its photo.
		w.do("inspector", o.ID, "inspection-report", map[string]any{"passed": true, "sample_size": 80,
			"findings": []any{map[string]any{"attribute": "Fabric weight", "measured": "201 g/m²", "pass": true}},
			"photos":   []any{photo}, "summary": "level II"})

		files := []struct {
			f    fileView
			data []byte
			want string // Content-Type
		}{{spec, specSheet, "application/pdf"}, {label, labelCSV, "text/csv; charset=utf-8"}, {photo, cartonPNG, "image/png"}}
		for _, who := range []string{"buyer", "supplier", "inspector", "arbiter", "admin"} {
			for _, f := range files {
				path := "/v1/orders/" + o.ID + "/attachments/" + f.f.Ref
				r := w.ok(w.call(who, "GET", path, nil, nil), 200)
				h := r.header
				if !bytes.Equal(r.body, f.data) || h.Get("Content-Type") != f.want || h.Get("ETag") != `"`+f.f.Ref+`"` ||
					h.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(h.Get("Content-Security-Policy"), "sandbox") ||
					h.Get("Content-Length") != fmt.Sprint(len(f.data)) {
					t.Errorf("%s downloads %s: %d bytes, headers %v", who, f.f.Name, len(r.body), h)
				}
				if cd := h.Get("Content-Disposition"); cd != fmt.Sprintf(`attachment; filename="%s"`, f.f.Name) {
					t.Errorf("%s downloads %s: Content-Disposition %q", who, f.f.Name, cd)
				}
				nm := w.call(who, "GET", path, nil, nil, "If-None-Match", `W/"x", `+h.Get("ETag"))
				if nm.status != http.StatusNotModified || len(nm.body) != 0 || nm.header.Get("ETag") != h.Get("ETag") {
					t.Errorf("%s: conditional GET of %s: %d, %d bytes", who, f.f.Name, nm.status, len(nm.body))
				}
				if r := w.call(who, "GET", path, nil, nil, "If-None-Match", `"sha256:other"`); r.status != 200 {
					t.Errorf("%s: If-None-Match naming another file: %d", who, r.status)
				}
			}
		}
		// Another tenant learns nothing, not even with the ETag in hand; a file the order does not
		// refer to is not found, whoever uploaded it.
		path := "/v1/orders/" + o.ID + "/attachments/" + spec.Ref
		w.refused(w.call("buyer2", "GET", path, nil, nil), 404, "order_not_found")
		w.refused(w.call("buyer2", "GET", path, nil, nil, "If-None-Match", `"`+spec.Ref+`"`), 404, "order_not_found")
		theirs := w.uploaded("buyer2", "their drawing.pdf", "application/pdf", []byte("%PDF-1.4\n% buyer 2's drawing\n%%EOF\n"))
		w.refused(w.call("buyer", "GET", "/v1/orders/"+o.ID+"/attachments/"+theirs.Ref, nil, nil), 404, "attachment_not_found")
		w.refused(w.call("buyer", "GET", "/v1/orders/"+o.ID+"/attachments/..%2F..%2Fetc%2Fpasswd", nil, nil), 404, "attachment_not_found")
		w.refused(w.call("buyer", "GET", "/v1/orders/ord_none/attachments/"+spec.Ref, nil, nil), 404, "order_not_found")
	})
}

// TestFilesForeignRefRefused ensures an organization cannot attach another's file by naming its
// hash — to a message (R23), a contract proposal (R3) or a report's photos (R16): 422
// attachment_not_found naming the field, the same answer as for a hash nobody uploaded.
func TestFilesForeignRefRefused(t *testing.T) {
	databases(t, func(t *testing.T, w *world) {
		theirs := w.uploaded("buyer2", "their drawing.pdf", "application/pdf", []byte("%PDF-1.4\n% buyer 2's drawing\n%%EOF\n"))
		nobody := theirs
		nobody.Ref = "sha256:" + strings.Repeat("0", 64)
		o := w.confirmed()
		c := w.contract()
		for _, f := range []fileView{theirs, nobody} {
			for _, tc := range []struct {
				who, path, field string
				body             map[string]any
			}{
				{"buyer", "/messages", "body.attachments[0].ref", map[string]any{"body": "see", "attachments": []any{f}}},
				{"supplier", "/propose-amendment", "body.attachments[0].ref", func() map[string]any { c["attachments"] = []any{f}; return c }()},
				{"inspector", "/inspection-report", "body.report.photos[0].ref", map[string]any{"passed": true, "sample_size": 80, "photos": []any{f}}},
			} {
				r := w.call(tc.who, "POST", "/v1/orders/"+o.ID+tc.path, tc.body, nil)
				var p struct {
					Errors []struct{ Location string }
				}
				_ = json.Unmarshal(r.body, &p)
				if r.status != 422 || r.problem.Reason != "attachment_not_found" || len(p.Errors) != 1 || p.Errors[0].Location != tc.field {
					t.Errorf("%s %s with %s: %d %s", tc.who, tc.path, f.Ref[:15], r.status, r.body)
				}
			}
		}
	})
}

// TestFilesUploadLimits ensures every limit of POST /v1/files is enforced with a problem to act
// on: a file of UploadBodyMax bytes is taken and one byte more is 413, with or without a
// Content-Length; a type not taken is 415; content that is not its declared type, an empty body
// and a bad name are 422; and a retry with the same Idempotency-Key returns the first answer,
// while the same key for another file is 422. R23
func TestFilesUploadLimits(t *testing.T) {
	databases(t, func(t *testing.T, w *world) {
		big := func(n int) []byte { return append([]byte("%PDF-1.4\n"), make([]byte, n-9)...) }
		at := w.uploaded("supplier", "at the limit.pdf", "application/pdf", big(api.UploadBodyMax))
		if at.Size != api.UploadBodyMax {
			t.Errorf("a file of UploadBodyMax bytes: %+v", at)
		}
		w.refused(w.upload("supplier", "over.pdf", "application/pdf", big(api.UploadBodyMax+1), ""), 413, "file_too_large")
		w.refused(w.chunked("supplier", "over.pdf", "application/pdf", big(api.UploadBodyMax+1)), 413, "file_too_large")

		w.refused(w.upload("supplier", "page.html", "text/html", []byte("<html><script>alert(1)</script></html>"), ""), 415, "media_type_not_allowed")
		w.refused(w.upload("supplier", "no type", "", specSheet, ""), 415, "media_type_not_allowed")
		w.refused(w.upload("supplier", "fake.png", "image/png", specSheet, ""), 422, "content_type_mismatch")
		w.refused(w.upload("supplier", "empty.pdf", "application/pdf", nil, ""), 422, "empty_file")
		for _, name := range []string{" ", "../../etc/passwd", `C:\spec.pdf`, "nul\x00.pdf", "new\nline.pdf", strings.Repeat("é", 128) + ".pdf"} {
			r := w.upload("supplier", name, "application/pdf", specSheet, "")
			if r.status != 422 || r.problem.Reason != "invalid_file_name" || !strings.Contains(string(r.body), `"location":"query.name"`) {
				t.Errorf("name %q: %d %s", name, r.status, r.body)
			}
		}
		for _, path := range []string{"/v1/files", "/v1/files?name="} {
			w.refused(w.call("supplier", "POST", path, rawBody{contentType: "application/pdf", data: specSheet}, nil), 422, "validation_failed")
		}

		first := w.ok(w.upload("supplier", "spec.pdf", "application/pdf", specSheet, "same-key"), 201)
		again := w.ok(w.upload("supplier", "spec.pdf", "application/pdf", specSheet, "same-key"), 201)
		if !bytes.Equal(first.body, again.body) {
			t.Errorf("retry answered %s, first %s", again.body, first.body)
		}
		w.refused(w.upload("supplier", "spec.pdf", "application/pdf", big(100), "same-key"), 422, "idempotency_key_reused")
		w.refused(w.upload("supplier", "renamed.pdf", "application/pdf", specSheet, "same-key"), 422, "idempotency_key_reused")
		// The same content uploaded again, under another key and name, is the same file.
		other := w.uploaded("supplier", "copy.pdf", "application/pdf", specSheet)
		var f fileView
		_ = json.Unmarshal(first.body, &f)
		if other.Ref != f.Ref || other.Name != "copy.pdf" {
			t.Errorf("the same content again: %+v, first %+v", other, f)
		}
	})
}

// chunked uploads a file without a Content-Length: the server bounds the body itself.
func (w *world) chunked(who, name, contentType string, data []byte) resp {
	w.t.Helper()
	req, _ := http.NewRequest("POST", w.srv.URL+"/v1/files?name="+url.QueryEscape(name), io.MultiReader(bytes.NewReader(data)))
	req.ContentLength = -1
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+w.keys[who])
	w.n++
	req.Header.Set("Idempotency-Key", fmt.Sprintf("chunked-%d", w.n))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer res.Body.Close()
	r := resp{status: res.StatusCode, header: res.Header}
	r.body, _ = io.ReadAll(res.Body)
	_ = json.Unmarshal(r.body, &r.problem)
	return r
}
