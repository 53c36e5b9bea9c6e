package web

import "net/http"

// creditRoutes registers the pages for Pay Later: credit application, line, loans and statements.
func (s *Server) creditRoutes(app *http.ServeMux) {}
