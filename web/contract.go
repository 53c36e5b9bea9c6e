package web

import "net/http"

// contractRoutes registers the pages for contract drafting, amending and attachments.
func (s *Server) contractRoutes(app *http.ServeMux) {}
