package notify

import (
	"bytes"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"time"
)

// Mail is one email to compose.
type Mail struct {
	From    mail.Address
	To      mail.Address
	Subject string
	Text    string // the notification's body
	Link    string // absolute URL of the page where the reader acts
	// LinkText introduces Link: "Open the order" when empty.
	LinkText string
	Inbox    string    // absolute URL of the notifications page
	Date     time.Time // the clock's time
	// MessageID is stable for a notification, so that a resend after a lost acknowledgement is
	// recognizably the same message.
	MessageID string
}

// MessageID is the Message-ID of notification id's email, in the sender's domain.
func MessageID(id int64, from string) string {
	domain := "tradeassure.invalid"
	if _, d, ok := strings.Cut(from, "@"); ok && d != "" {
		domain = d
	}
	return fmt.Sprintf("<notification-%d@%s>", id, domain)
}

// Compose renders m as an RFC 5322 message: UTF-8 plain text, quoted-printable, CRLF lines.
func Compose(m Mail) []byte {
	var b bytes.Buffer
	header := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	header("From", m.From.String())
	header("To", m.To.String())
	header("Subject", mime.QEncoding.Encode("utf-8", oneLine(m.Subject)))
	header("Date", m.Date.Format(time.RFC1123Z))
	header("Message-ID", m.MessageID)
	header("MIME-Version", "1.0")
	header("Content-Type", `text/plain; charset="utf-8"`)
	header("Content-Transfer-Encoding", "quoted-printable")
	header("Auto-Submitted", "auto-generated") // RFC 3834: no vacation replies to a notification
	b.WriteString("\r\n")
	greeting := "Hello,"
	if m.To.Name != "" {
		greeting = "Hello " + m.To.Name + ","
	}
	open := m.LinkText
	if open == "" {
		open = "Open the order"
	}
	text := strings.Join([]string{greeting, "", m.Text, "", open + ": " + m.Link, "",
		"--", "tradeassure Trade Assurance. All your notifications: " + m.Inbox}, "\n")
	w := quotedprintable.NewWriter(&b)
	w.Write([]byte(strings.ReplaceAll(text, "\n", "\r\n")))
	w.Close()
	return b.Bytes()
}

// oneLine keeps a header value on one line: a stray CR or LF cannot start a new header.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == '\r' || r == '\n' }), " ")
}
