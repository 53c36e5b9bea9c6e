package api_test

import (
	"net/url"
	"sync"
)

// The file operations' rows of the authorization matrix (matrix_test.go), kept beside the files
// API. Anyone with a key uploads (the file is its organization's); a file of an order is
// downloaded by whoever sees the order — its inspection company and platform staff included —
// and another tenant's order looks like no order.
func init() {
	matrix = append(matrix,
		matrixRow{op: "upload_file", method: "POST", path: "/v1/files?name=matrix.pdf", own: "AAAAA",
			body: static(rawBody{contentType: "application/pdf", data: []byte("%PDF-1.4\n% matrix\n%%EOF\n")})},
		matrixRow{op: "get_order_attachment", method: "GET", path: "/v1/orders/{order}/attachments/{attachment}", own: "AAAAA", foreign: "NNNAA"},
	)
}

// rawBody is a request body sent as it is, with its media type: a file to upload.
type rawBody struct {
	contentType string
	data        []byte
}

// fileView is an upload's answer: also an attachment, as contracts, messages and reports name
// one.
type fileView struct {
	Ref       string `json:"ref"`
	Name      string `json:"name"`
	MediaType string `json:"media_type"`
	Size      int64  `json:"size"`
}

// attachedRefs remembers the file each fixture order's thread carries, by order ID.
var attachedRefs sync.Map

// attachment is a file the cell's order refers to: its buyer uploads one and posts it to the
// order's thread (R23), once per order.
func (t *target) attachment() string {
	id := t.order()
	if ref, ok := attachedRefs.Load(id); ok {
		return ref.(string)
	}
	buyer := "buyer"
	if !t.own {
		buyer = "buyer2"
	}
	w := t.f.w
	var f fileView
	w.ok(w.call(buyer, "POST", "/v1/files?name="+url.QueryEscape("label "+id+".pdf"),
		rawBody{contentType: "application/pdf", data: []byte("%PDF-1.4\n% care label of " + id + "\n%%EOF\n")}, &f), 201)
	w.ok(w.call(buyer, "POST", "/v1/orders/"+id+"/messages", map[string]any{"body": "the care label",
		"attachments": []any{f}}, nil), 201)
	attachedRefs.Store(id, f.Ref)
	return f.Ref
}
