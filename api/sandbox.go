package api

import "github.com/danielgtaylor/huma/v2"

// SandboxHeader is on every /v1 response, "true", while the server runs the sandbox payment
// rail (serve --sandbox): payments are simulated and no real money moves. Absent otherwise.
const SandboxHeader = "Tradeassure-Sandbox"

// sandboxHeader marks the responses of a sandbox server, refusals included.
func (s *Server) sandboxHeader(ctx huma.Context, next func(huma.Context)) {
	if s.svc.Sandbox().Enabled {
		ctx.SetHeader(SandboxHeader, "true")
	}
	next(ctx)
}
