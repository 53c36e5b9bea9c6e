package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/tradeassure/tradeassure/notify"
	"github.com/tradeassure/tradeassure/trade"
)

// Limits of the notifications page.
const (
	UnreadShownMax = notify.PageSizeMax // unread notifications listed at once; marking them read shows the rest
	EarlierPageMax = 50                 // read notifications per page
)

// inboxLink is the menu's "Notifications (n)" link.
type inboxLink struct {
	Unread int
	More   bool // the count stopped at notify.UnreadCountMax
}

// inboxLink counts the viewer's unread notifications for the menu; nil when the portal has no
// notifications. A failed count leaves the link without a number rather than failing the page.
func (s *Server) inboxLink(r *http.Request) *inboxLink {
	v := viewerFrom(r.Context())
	if s.notes == nil || v == nil || v.UserID == "" {
		return nil
	}
	n, err := s.notes.Unread(r.Context(), v.UserID)
	if err != nil {
		s.log.Warn("count unread notifications", "user", v.UserID, "err", err)
		return &inboxLink{}
	}
	return &inboxLink{Unread: n, More: n >= notify.UnreadCountMax}
}

// notificationRoutes registers the pages for in-app notifications.
func (s *Server) notificationRoutes(app *http.ServeMux) {
	if s.notes == nil {
		return
	}
	app.Handle("GET /notifications", s.auth(s.notificationsPage))
	app.Handle("POST /notifications/read-all", s.auth(s.markAllRead))
	app.Handle("POST /notifications/{id}/read", s.auth(s.markRead))
}

type notificationsData struct {
	Role       trade.Role // what the notices are about differs by role: the page's intro says it
	Unread     []noticeRow
	UnreadMore bool // more unread than shown
	Earlier    []noticeRow
	Before     int64 // the earlier page this is; 0 for the newest
	NextBefore int64 // the cursor of the next earlier page; 0 on the last
	UpTo       int64 // the newest ID shown: "mark all read" marks nothing newer
}

// notificationsPage lists the viewer's unread notifications, newest first, then a page of the
// ones read earlier (?before= pages back).
func (s *Server) notificationsPage(w http.ResponseWriter, r *http.Request) {
	sc := notify.UserScope(actorOf(r).UserID)
	before, err := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	if err != nil || before < 0 {
		before = 0
	}
	d := notificationsData{Role: actorOf(r).Role, Before: before}
	if before == 0 {
		unread, err := s.notes.List(r.Context(), sc, "", notify.Unread, 0, UnreadShownMax)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		d.Unread, d.UnreadMore = noticeRows(unread), len(unread) == UnreadShownMax
		if len(unread) > 0 {
			d.UpTo = unread[0].ID
		}
	}
	earlier, err := s.notes.List(r.Context(), sc, "", notify.Read, before, EarlierPageMax)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.Earlier = noticeRows(earlier)
	if len(earlier) == EarlierPageMax {
		d.NextBefore = earlier[len(earlier)-1].ID
	}
	s.render(w, r, http.StatusOK, "notifications.html", "Notifications", d)
}

// noticeRow is a notification as the page lists it, with its own link named for what it opens:
// an order, a Pay Later loan or application, the credit line, the money held in suspense, the
// supplier's payouts, a queue of the Operations page.
type noticeRow struct {
	notify.Notification
	Href  string // the portal page where the reader acts; "" when the notification has none
	Opens string // the link's text: what that page is
}

func noticeRows(ns []notify.Notification) []noticeRow {
	out := make([]noticeRow, len(ns))
	for i, n := range ns {
		out[i] = noticeRow{Notification: n}
		if strings.HasPrefix(n.Link, "/") && !strings.HasPrefix(n.Link, "//") { // a page of the portal, never elsewhere
			out[i].Href, out[i].Opens = n.Link, opens(n.Link)
		}
	}
	return out
}

// openPage is the text of a link that none of the pages notify links to matches.
const openPage = "Open the page"

// pageNames names the pages notify links to without an ID: each of its constant links.
var pageNames = map[string]string{
	notify.CreditLink:                   "Your Pay Later credit line",
	notify.SuspenseLink:                 "Money held in suspense",
	notify.PayoutsLink:                  "Your payouts",
	notify.OperationsPayoutsLink:        "Operations: payouts waiting for the bank",
	notify.OperationsFlagsLink:          "Operations: flagged payout accounts",
	notify.OperationsDebitAttentionLink: "Operations: debits needing attention",
	notify.OperationsDebitsLink:         "Operations: debits waiting for the bank",
	notify.OperationsLenderLink:         "Operations: lender requests needing attention",
	notify.OperationsLenderFundsLink:    "Operations: disbursements awaiting the lender's money",
}

// opens says what a notification's link opens, from the pages notify links to (its OrderLink,
// LoanLink and ApplicationLink, and the constant links in pageNames); only an order's names the
// order.
func opens(link string) string {
	id := func(prefix string) (string, bool) {
		rest, ok := strings.CutPrefix(link, prefix)
		id, _, _ := strings.Cut(rest, "/")
		return id, ok && id != ""
	}
	if x, ok := id(notify.OrderLink("")); ok {
		return "Order #" + shortID(x)
	}
	if x, ok := id(notify.LoanLink("")); ok {
		return "Pay Later loan #" + shortID(x)
	}
	if _, ok := id(notify.ApplicationLink("")); ok {
		return "Your Pay Later application"
	}
	if name, ok := pageNames[link]; ok {
		return name
	}
	// Notices sent before the Operations page linked a supplier's Payouts panel.
	if _, ok := id("/admin/suppliers/"); ok && strings.HasSuffix(link, "#payouts") {
		return "The supplier's payouts"
	}
	return openPage
}

// markRead marks one of the viewer's notifications read (marking it again changes nothing, so
// the form needs no idempotency key); another person's is not found.
func (s *Server) markRead(w http.ResponseWriter, r *http.Request) {
	id, err := notify.ParseID(r.PathValue("id"))
	if err == nil {
		_, err = s.notes.MarkRead(r.Context(), notify.UserScope(actorOf(r).UserID), id)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.redirect(w, r, "/notifications", "Marked as read.")
}

// markAllRead marks the viewer's unread notifications read, up to the newest the page showed.
func (s *Server) markAllRead(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	upTo, err := strconv.ParseInt(r.PostForm.Get("up_to"), 10, 64)
	if err != nil || upTo < 0 {
		s.redirect(w, r, "/notifications", "Nothing was marked: reload the page and try again.")
		return
	}
	n, err := s.notes.MarkAllRead(r.Context(), actorOf(r).UserID, upTo)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	msg := "Marked " + strconv.Itoa(n) + " notifications as read."
	if n == 1 {
		msg = "Marked 1 notification as read."
	}
	s.redirect(w, r, "/notifications", msg)
}
