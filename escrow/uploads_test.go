package escrow_test

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/payment"
	"github.com/tradeassure/tradeassure/trade"
)

var (
	specPDF  = "%PDF-1.4\n% spec sheet: fabric 200 gsm, YKK zippers\n%%EOF\n"
	labelPDF = "%PDF-1.4\n% care label B\n%%EOF\n"
	photoPNG = "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + strings.Repeat("\x00", 32)
)

// refusedAt checks that err is the refusal reason about field.
func refusedAt(t *testing.T, what string, err error, reason, field string) {
	t.Helper()
	e, ok := fault.As(err)
	if !ok || e.Reason != reason || e.Field != field {
		t.Fatalf("%s: %v, want %s at %s", what, err, reason, field)
	}
}

// TestUploadValidates ensures an upload is refused, with a reason to act on, for a bad name, an
// empty file, a type the platform does not take and content that is not its declared type; that
// a retry with the same key returns the first answer; and that the same key for another file is
// refused. R23
func TestUploadValidates(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		for _, name := range []string{"", " ", ".", "..", "a/b.pdf", `a\b.pdf`, "tab\t.pdf", "nul\x00.pdf", "bad\xff.pdf", strings.Repeat("x", 252) + ".pdf"} {
			_, err := e.svc.Upload(e.ctx, e.buyer, e.key(), name, "application/pdf", strings.NewReader(specPDF))
			refusedAt(t, "name "+name, err, "invalid_file_name", "name")
		}
		for _, c := range []struct{ what, typ, body, reason string }{
			{"empty", "application/pdf", "", "empty_file"},
			{"html", "text/html", "<html></html>", "media_type_not_allowed"},
			{"no type", "", specPDF, "media_type_not_allowed"},
			{"html declared as pdf", "application/pdf", "<html><script>alert(1)</script></html>", "content_type_mismatch"},
		} {
			_, err := e.svc.Upload(e.ctx, e.buyer, e.key(), "f.pdf", c.typ, strings.NewReader(c.body))
			if fault.ReasonOf(err) != c.reason {
				t.Errorf("%s: %v, want %s", c.what, err, c.reason)
			}
		}
		first := must(e.svc.Upload(e.ctx, e.buyer, "up-1", "spec.pdf", "application/pdf; charset=binary", strings.NewReader(specPDF)))
		if first.MediaType != "application/pdf" || first.Size != int64(len(specPDF)) || first.Name != "spec.pdf" || first.OrgID != e.buyer.OrgID {
			t.Fatalf("upload %+v", first)
		}
		again := must(e.svc.Upload(e.ctx, e.buyer, "up-1", "spec.pdf", "application/pdf", strings.NewReader(specPDF)))
		if again != first {
			t.Errorf("retry %+v, want %+v", again, first)
		}
		_, err := e.svc.Upload(e.ctx, e.buyer, "up-1", "spec.pdf", "application/pdf", strings.NewReader(labelPDF))
		if fault.ReasonOf(err) != "idempotency_key_reused" {
			t.Errorf("the same key for another file: %v", err)
		}
		_, err = e.svc.Upload(e.ctx, e.buyer, "up-1", "other name.pdf", "application/pdf", strings.NewReader(specPDF))
		if fault.ReasonOf(err) != "idempotency_key_reused" {
			t.Errorf("the same key for another name: %v", err)
		}
		if _, err := e.svc.Upload(e.ctx, trade.System, e.key(), "x.pdf", "application/pdf", strings.NewReader(specPDF)); fault.ReasonOf(err) != "role_not_allowed" {
			t.Errorf("the system uploaded: %v", err)
		}
	})
}

// TestAttachRule ensures an organization attaches only files it uploaded itself or ones the order
// already refers to, to a contract at checkout or proposed (R3), a message (R23) and an
// inspection report (R16): naming another organization's file by its hash is refused with the
// field at fault, the same way as a hash nobody uploaded.
func TestAttachRule(t *testing.T) {
	databases(t, func(t *testing.T, e *env) {
		up := func(a trade.Actor, name, typ, body string) trade.Attachment {
			u := must(e.svc.Upload(e.ctx, a, e.key(), name, typ, strings.NewReader(body)))
			return trade.Attachment{Name: u.Name, Ref: u.Ref, Size: u.Size, MediaType: u.MediaType}
		}
		spec := up(e.supplier, "spec.pdf", "application/pdf", specPDF)
		label := up(e.buyer, "label.pdf", "application/pdf", labelPDF)
		photo := up(e.inspect, "carton.png", "image/png", photoPNG)

		// At checkout there is no order yet: only the buyer's own files.
		c := contract(e.clock.Now(), 5_00)
		c.Attachments = []trade.Attachment{label, spec}
		place := trade.Place{SupplierID: e.supplier.OrgID, Currency: "USD", ShipBy: c.ShipBy, ComplianceConfirmed: true, Contract: &c}
		_, err := e.svc.Place(e.ctx, e.buyer, e.key(), place)
		refusedAt(t, "checkout with the supplier's file", err, "attachment_not_found", "attachments[1].ref")
		c.Attachments = c.Attachments[:1]
		o := must(e.svc.Place(e.ctx, e.buyer, e.key(), place))

		// The supplier may attach its own file and the buyer's, which the order now refers to.
		c.Attachments = []trade.Attachment{label, spec}
		o = e.do(e.buyer, o, trade.BookInspection{InspectorID: e.inspect.OrgID})
		o = e.do(e.supplier, o, trade.ProposeContract{Contract: c})
		if got := len(o.Proposal.Contract.Attachments); got != 2 {
			t.Fatalf("proposal has %d attachments", got)
		}

		// A message may carry the order's files and the author's own, not someone else's.
		other := trade.Actor{Role: trade.RoleBuyer, OrgID: e.org(trade.KindBuyer, "Other Buyer", "DE").ID}
		secret := up(other, "their.pdf", "application/pdf", "%PDF-1.4\n% another buyer's drawing\n%%EOF\n")
		_, err = e.svc.PostMessage(e.ctx, e.supplier, e.key(), o.ID, "see", []trade.Attachment{spec, secret})
		refusedAt(t, "message with another organization's file", err, "attachment_not_found", "attachments[1].ref")
		_, err = e.svc.PostMessage(e.ctx, e.supplier, e.key(), o.ID, "see", []trade.Attachment{photo})
		refusedAt(t, "message with the inspector's file before it is on the order", err, "attachment_not_found", "attachments[0].ref")
		must(e.svc.PostMessage(e.ctx, e.buyer, e.key(), o.ID, "label and spec", []trade.Attachment{label, spec}))
		if ok := must(e.svc.MayAttach(e.ctx, other, o, secret.Ref)); !ok {
			t.Error("MayAttach refuses the uploader its own file")
		}
		if ok := must(e.svc.MayAttach(e.ctx, e.buyer, o, secret.Ref)); ok {
			t.Error("MayAttach lets the buyer attach another organization's file")
		}

		// An inspection report's photos: the inspector's own (R16).
		o = e.do(e.buyer, o, trade.ConfirmContract{Hash: o.Proposal.Hash})
		o = e.do(e.buyer, o, trade.Pay{Installment: trade.Initial, Method: payment.Card})
		e.clock.Advance(2 * time.Hour)
		e.timers()
		report := trade.Report{Passed: true, SampleSize: 80, Photos: []trade.Attachment{photo, secret}}
		_, err = e.svc.Do(e.ctx, e.inspect, e.key(), o.ID, trade.SubmitReport{Report: report})
		refusedAt(t, "report with another organization's photo", err, "attachment_not_found", "report.photos[1].ref")
		report.Photos = report.Photos[:1]
		o = e.do(e.inspect, e.reload(o), trade.SubmitReport{Report: report})

		// A role that may not issue the command hears so, whatever it attached.
		_, err = e.svc.Do(e.ctx, e.buyer, e.key(), o.ID, trade.SubmitReport{Report: trade.Report{Passed: true, SampleSize: 80, Photos: []trade.Attachment{secret}}})
		if fault.CodeOf(err) != fault.Forbidden {
			t.Errorf("a buyer's report: %v, want forbidden", err)
		}

		// Whoever sees the order downloads its files — the inspection company included — and
		// nobody else; a file the order does not refer to is not found.
		for _, a := range []trade.Actor{e.buyer, e.supplier, e.inspect, e.arbiter} {
			for _, f := range []trade.Attachment{spec, label, photo} {
				att, rc, err := e.svc.OpenAttachment(e.ctx, a, o.ID, f.Ref)
				if err != nil {
					t.Fatalf("%s downloads %s: %v", a.Role, f.Name, err)
				}
				b, err := io.ReadAll(rc)
				rc.Close()
				if err != nil || int64(len(b)) != f.Size || att.MediaType != f.MediaType {
					t.Errorf("%s downloads %s: %d bytes of %s, %v", a.Role, f.Name, len(b), att.MediaType, err)
				}
			}
		}
		if _, err := e.svc.OrderAttachment(e.ctx, other, o.ID, spec.Ref); fault.ReasonOf(err) != "order_not_found" {
			t.Errorf("another buyer downloads: %v", err)
		}
		if _, err := e.svc.OrderAttachment(e.ctx, e.buyer, o.ID, secret.Ref); fault.ReasonOf(err) != "attachment_not_found" {
			t.Errorf("a file the order does not refer to: %v", err)
		}
		if _, err := e.svc.OrderAttachment(e.ctx, e.buyer, o.ID, "../../etc/passwd"); !errors.Is(err, &fault.Error{Reason: "attachment_not_found"}) {
			t.Errorf("a path for a ref: %v", err)
		}
	})
}
