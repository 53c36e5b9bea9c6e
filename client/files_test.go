package client

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/tradeassure/tradeassure/api"
	"github.com/tradeassure/tradeassure/trade"
)

var specSheet = []byte("%PDF-1.4\n% spec sheet: fabric 200 gsm, YKK zippers\n%%EOF\n")

// TestUploadDownload ensures a marketplace can attach a file through the client alone: the
// supplier uploads its spec sheet and proposes the contract with it (R3), and the buyer and the
// inspection company download it, byte for byte, with its name and type. A file the server does
// not take and a file the order does not refer to come back as problems.
func TestUploadDownload(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, api.RateLimit{Disabled: true}, nil)
	sup, buyer := e.clients["supplier"], e.clients["buyer"]
	f, err := sup.Upload(ctx, "spec sheet.pdf", "application/pdf", bytes.NewReader(specSheet), "")
	if err != nil {
		t.Fatal(err)
	}
	if f.Name != "spec sheet.pdf" || f.MediaType != "application/pdf" || f.Size != int64(len(specSheet)) || !strings.HasPrefix(f.Ref, "sha256:") {
		t.Fatalf("uploaded %+v", f)
	}
	o := e.place(ctx, "")
	if _, err := buyer.BookInspection(ctx, o.ID, e.ids["inspector"], trade.AQL{}, ""); err != nil {
		t.Fatal(err)
	}
	c := e.contract()
	c.Attachments = []trade.Attachment{f.Attachment()}
	if _, err := sup.ProposeContract(ctx, o.ID, c, ""); err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{"buyer", "supplier", "inspector"} {
		data, got, err := e.clients[who].DownloadBytes(ctx, o.ID, f.Ref)
		if err != nil || !bytes.Equal(data, specSheet) || *got != *f {
			t.Fatalf("%s downloads: %+v, %q, %v", who, got, data, err)
		}
	}

	var p *Problem
	if _, err := sup.Upload(ctx, "page.html", "text/html", strings.NewReader("<html></html>"), ""); !errors.As(err, &p) ||
		p.Status != http.StatusUnsupportedMediaType || p.Reason != "media_type_not_allowed" {
		t.Fatalf("an HTML page: %v", err)
	}
	other, err := buyer.Upload(ctx, "other.pdf", "application/pdf", strings.NewReader("%PDF-1.4\n% other\n%%EOF\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := buyer.DownloadBytes(ctx, o.ID, other.Ref); !errors.As(err, &p) || p.Status != 404 || p.Reason != "attachment_not_found" {
		t.Fatalf("a file the order does not refer to: %v", err)
	}
	c.Attachments = []trade.Attachment{other.Attachment()}
	if _, err := sup.ProposeContract(ctx, o.ID, c, ""); !errors.As(err, &p) || p.Reason != "attachment_not_found" ||
		len(p.Errors) != 1 || p.Errors[0].Location != "body.attachments[0].ref" {
		t.Fatalf("the buyer's file in the supplier's proposal: %v", err)
	}
}

// TestUploadRetries ensures an upload that meets a 5xx is sent again, the same bytes under the
// same idempotency key, and recorded once; a download is retried the same way. R23
func TestUploadRetries(t *testing.T) {
	ctx := context.Background()
	uploads := &flaky{n: 2, status: 503, match: func(r *http.Request) bool { return r.URL.Path == "/v1/files" }}
	e := newEnv(t, api.RateLimit{Disabled: true}, uploads.wrap)
	f, err := e.clients["buyer"].Upload(ctx, "spec.pdf", "application/pdf", bytes.NewReader(specSheet), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(uploads.keys) != 3 || uploads.keys[0] == "" || uploads.keys[1] != uploads.keys[0] || uploads.keys[2] != uploads.keys[0] {
		t.Fatalf("keys of the attempts: %q", uploads.keys)
	}
	if f.Size != int64(len(specSheet)) {
		t.Fatalf("uploaded %+v", f)
	}
	again, err := e.clients["buyer"].Upload(ctx, "spec.pdf", "application/pdf", bytes.NewReader(specSheet), uploads.keys[0])
	if err != nil || *again != *f {
		t.Fatalf("the same key again: %+v, %v", again, err)
	}

	downloads := &flaky{n: 1, status: 502, match: func(r *http.Request) bool { return strings.Contains(r.URL.Path, "/attachments/") }}
	e = newEnv(t, api.RateLimit{Disabled: true}, downloads.wrap)
	f, err = e.clients["buyer"].Upload(ctx, "spec.pdf", "application/pdf", bytes.NewReader(specSheet), "")
	if err != nil {
		t.Fatal(err)
	}
	o := e.place(ctx, "")
	if _, err := e.clients["buyer"].PostMessage(ctx, o.ID, "our spec", []trade.Attachment{f.Attachment()}, ""); err != nil {
		t.Fatal(err)
	}
	data, _, err := e.clients["supplier"].DownloadBytes(ctx, o.ID, f.Ref)
	if err != nil || !bytes.Equal(data, specSheet) || len(downloads.keys) != 2 {
		t.Fatalf("download after a 502: %q, %v, %d attempts", data, err, len(downloads.keys))
	}
}
