package web

import (
	"net/http"
	"strconv"

	"github.com/tradeassure/tradeassure/notify"
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
	Unread     []notify.Notification
	UnreadMore bool // more unread than shown
	Earlier    []notify.Notification
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
	var d notificationsData
	d.Before = before
	if before == 0 {
		unread, err := s.notes.List(r.Context(), sc, "", notify.Unread, 0, UnreadShownMax)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		d.Unread, d.UnreadMore = unread, len(unread) == UnreadShownMax
		if len(unread) > 0 {
			d.UpTo = unread[0].ID
		}
	}
	earlier, err := s.notes.List(r.Context(), sc, "", notify.Read, before, EarlierPageMax)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.Earlier = earlier
	if len(earlier) == EarlierPageMax {
		d.NextBefore = earlier[len(earlier)-1].ID
	}
	s.render(w, r, http.StatusOK, "notifications.html", "Notifications", d)
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
