package api

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/tradeassure/tradeassure/notify"
)

type notificationPage struct {
	Items      []notify.Notification `json:"items"`
	NextCursor int64                 `json:"next_cursor,omitempty" doc:"Pass as ?before= for the next (older) page; absent on the last page."`
}

// RegisterNotifications adds the in-app notifications to an API built by New, with the same
// authentication, problems and metrics. An API key belongs to an organization, not to a
// person: it reads the notifications of every user of its organization (narrow them with
// ?user_id=) and may mark any of them read.
func RegisterNotifications(a huma.API, ns *notify.Service, log *slog.Logger) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{log: log}
	tags := []string{"Notifications"}
	huma.Register(a, huma.Operation{OperationID: "list_notifications", Method: http.MethodGet, Path: "/v1/notifications",
		Summary: "What your organization's people must act on, newest first", Tags: tags, Security: bearerAuth,
		Description: "One entry per person told: a contract to confirm, a payment due, a failed inspection, a dispute to " +
			"answer or decide, a late order, a deadline near; a Pay Later application answered, a refused debit, an " +
			"installment coming due, a charged-off loan; for the platform's admins, money held in suspense and Pay Later " +
			"debits an operator must settle. Each links to the portal page where the reader acts. Page with " +
			"?before=<next_cursor>."},
		func(ctx context.Context, in *struct {
			Before int64  `query:"before" minimum:"0" default:"0" doc:"The next_cursor of the previous page; 0 for the newest."`
			Limit  int    `query:"limit" minimum:"1" maximum:"100" default:"50"`
			Unread bool   `query:"unread" doc:"Only the unread ones."`
			UserID string `query:"user_id" maxLength:"64" doc:"Only those of one of your organization's users."`
		}) (*struct{ Body notificationPage }, error) {
			state := notify.AnyState
			if in.Unread {
				state = notify.Unread
			}
			ns, err := ns.List(ctx, notify.OrgScope(actor(ctx).OrgID), in.UserID, state, in.Before, in.Limit)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			page := notificationPage{Items: ns}
			if ns == nil {
				page.Items = []notify.Notification{}
			}
			if len(ns) == in.Limit {
				page.NextCursor = ns[len(ns)-1].ID
			}
			return &struct{ Body notificationPage }{page}, nil
		})
	huma.Register(a, huma.Operation{OperationID: "read_notification", Method: http.MethodPost, Path: "/v1/notifications/{id}/read",
		Summary: "Mark a notification read", Tags: tags, Security: bearerAuth,
		Description: "Takes an Idempotency-Key like every POST, but needs no record of it: marking it read is idempotent " +
			"by nature, so a retry (with any key) is answered from the current state — the notification unchanged, with " +
			"the time it was first read. Another organization's notification is not found."},
		func(ctx context.Context, in *struct {
			ID             int64  `path:"id" minimum:"1"`
			IdempotencyKey string `header:"Idempotency-Key" required:"true" minLength:"1" maxLength:"255"`
		}) (*struct{ Body notify.Notification }, error) {
			n, err := ns.MarkRead(ctx, notify.OrgScope(actor(ctx).OrgID), in.ID)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &struct{ Body notify.Notification }{n}, nil
		})
}
