package web

import "net/http"

// notificationRoutes registers the pages for in-app notifications.
func (s *Server) notificationRoutes(app *http.ServeMux) {}
