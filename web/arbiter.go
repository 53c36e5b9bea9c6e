package web

import "net/http"

// arbiterRoutes registers the pages for the arbiter's case page.
func (s *Server) arbiterRoutes(app *http.ServeMux) {}
