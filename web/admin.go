package web

import "net/http"

// adminRoutes registers the pages for admin pages: supplier eligibility and coverage, fee schedule, ledger, audit log.
func (s *Server) adminRoutes(app *http.ServeMux) {}
