package trade_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/trade"
)

// TestNewMessage ensures the order's thread (the Trade Center) takes posts from the parties,
// the booked inspector and platform staff only — anyone else is told the order does not exist —
// and that a post has a body or an attachment within the named limits. R23
func TestNewMessage(t *testing.T) {
	att := trade.Attachment{Name: "photo.jpg", Ref: "sha256:" + hex64('c'), Size: 10, MediaType: "image/jpeg"}
	tests := []struct {
		name   string
		booked bool
		a      trade.Actor
		body   string
		atts   []trade.Attachment
		want   string
	}{
		{"buyer", true, buyer, "When will the samples ship?", nil, ""},
		{"supplier", true, supplier, "Tomorrow, DHL.", nil, ""},
		{"booked inspector", true, inspector, "Inspection on Tuesday.", nil, ""},
		{"arbiter", true, arbiter, "Please upload the lab report.", nil, ""},
		{"admin", true, admin, "Note for the file.", nil, ""},
		{"inspector before booking", false, inspector, "Hello", nil, "order_not_found"},
		{"another inspector", true, otherInspector, "Hello", nil, "order_not_found"},
		{"another buyer", true, otherBuyer, "Hello", nil, "order_not_found"},
		{"another supplier", true, otherSupplier, "Hello", nil, "order_not_found"},
		{"system", true, system, "Hello", nil, "order_not_found"},
		{"attachment only", true, buyer, "", []trade.Attachment{att}, ""},
		{"empty", true, buyer, "", nil, "invalid_message"},
		{"MessageMax characters", true, buyer, strings.Repeat("é", trade.MessageMax), nil, ""},
		{"too long", true, buyer, strings.Repeat("é", trade.MessageMax+1), nil, "invalid_message"},
		{"MessageAttachmentsMax attachments", true, buyer, "photos", slices.Repeat([]trade.Attachment{att}, trade.MessageAttachmentsMax), ""},
		{"too many attachments", true, buyer, "photos", slices.Repeat([]trade.Attachment{att}, trade.MessageAttachmentsMax+1), "too_many_attachments"},
		{"attachment not stored", true, buyer, "see", []trade.Attachment{{Name: "x.jpg", Ref: "http://x", Size: 1}}, "invalid_attachment"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := newKit(t, t0)
			k.place(nil)
			if tc.booked {
				k.do(buyer, trade.BookInspection{InspectorID: inspectorOrgID})
			}
			m, err := trade.NewMessage(k.o, tc.a, "msg_1", tc.body, tc.atts, k.now)
			if got := fault.ReasonOf(err); got != tc.want {
				t.Fatalf("reason %q, want %q (%v)", got, tc.want, err)
			}
			if err != nil {
				if tc.want == "order_not_found" && fault.CodeOf(err) != fault.NotFound {
					t.Errorf("code %s, want not_found", fault.CodeOf(err))
				}
				return
			}
			if m.OrderID != k.o.ID || m.Author != tc.a || m.Body != tc.body || !m.At.Equal(k.now) || len(m.Attachments) != len(tc.atts) {
				t.Errorf("message %+v", m)
			}
		})
	}
}
