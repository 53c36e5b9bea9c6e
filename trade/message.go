package trade

import (
	"time"

	"github.com/tradeassure/tradeassure/fault"
)

// Limits on messages.
const (
	MessageMax            = 10_000 // characters of one message
	MessageAttachmentsMax = 10
)

// Message is one post in an order's thread, the "Trade Center" (R23). The thread is evidence in
// a dispute, so messages are never edited or deleted.
type Message struct {
	ID          string       `json:"id"`
	OrderID     string       `json:"order_id"`
	Author      Actor        `json:"author"`
	Body        string       `json:"body"`
	Attachments []Attachment `json:"attachments"`
	At          time.Time    `json:"at"`
}

// NewMessage validates a post by a on o's thread. The parties, the booked inspector and platform
// staff may post.
func NewMessage(o *Order, a Actor, id, body string, atts []Attachment, now time.Time) (Message, error) {
	if !o.Visible(a) || a.Role == RoleSystem {
		return Message{}, fault.New(fault.NotFound, "order_not_found", "no such order")
	}
	if len([]rune(body)) > MessageMax || (body == "" && len(atts) == 0) {
		return Message{}, fault.FieldErr("body", "invalid_message", "write 1 to %d characters or attach a file", MessageMax)
	}
	if err := validAttachments("attachments", atts, MessageAttachmentsMax, ""); err != nil {
		return Message{}, err
	}
	return Message{ID: id, OrderID: o.ID, Author: a, Body: body, Attachments: atts, At: now}, nil
}
