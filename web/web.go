// Package web is the HTML portal: the pages buyers, suppliers, inspectors, arbiters and admins
// use in a browser. It is an adapter beside the JSON API, over the same use cases (escrow) and
// credentials (access): every rule lives in the domain; this package renders what the domain
// says and turns forms into commands. Pages are html/template, embedded with their CSS (Pico)
// and the little JavaScript they use (htmx); nothing comes from a CDN.
package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/tradeassure/tradeassure/access"
	"github.com/tradeassure/tradeassure/blob"
	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/notify"
	"github.com/tradeassure/tradeassure/trade"
)

// Limits.
const (
	FormBodyMax = 64 << 10 // bytes of one form submission
	// LineItemRows and RequirementRows are the empty rows the order form offers; a contract
	// with more lines is proposed through the API.
	LineItemRows    = 5
	RequirementRows = 4
	ComplianceRows  = 2
)

//go:embed templates static
var assets embed.FS

// Options configure the portal.
type Options struct {
	Logger *slog.Logger
	// LookupUser re-reads the logged-in user on every request, so that a disabled user is
	// logged out at once. Without it, a session holds until it expires.
	LookupUser func(ctx context.Context, id string) (access.User, error)
	// Blobs stores the files the portal's forms upload and serves them back (R3, R23): the
	// same store the service resolves attachments in. Without it, forms take no files.
	Blobs blob.Store
	// Notifications is the in-app inbox (/notifications and the count in the menu); without it
	// the portal has neither.
	Notifications *notify.Service
	// TrustForwardedFor counts logins against the last address of X-Forwarded-For instead of
	// the peer's. Set it only behind a reverse proxy that appends the client's address there:
	// without it, every login through the proxy counts against the proxy's one address.
	TrustForwardedFor bool
	// Sandbox says the server runs the sandbox payment rail: every page then carries a banner
	// that payments are simulated and no real money moves.
	Sandbox bool
}

// SessionConfig configures the session cookie.
type SessionConfig struct {
	// Secure marks the cookie Secure on every answer: set it when TLS ends at a proxy in front
	// of the portal. A request that reaches the portal over TLS gets a Secure cookie without
	// it. Browsers drop a Secure cookie on plain http.
	Secure      bool
	IdleTimeout time.Duration // default 1 hour without a request
	Lifetime    time.Duration // default 12 hours after login, whatever the activity
}

// SessionCookie is the name of the portal's session cookie.
const SessionCookie = "ta_session"

// NewSessions returns the session manager the portal expects, storing sessions in store:
// HttpOnly, SameSite=Lax, Secure as configured, an idle timeout and an absolute lifetime, and
// tokens kept hashed in the store.
func NewSessions(store scs.Store, c SessionConfig) *scs.SessionManager {
	sm := scs.New()
	sm.Store = store
	sm.IdleTimeout = c.IdleTimeout
	if sm.IdleTimeout == 0 {
		sm.IdleTimeout = time.Hour
	}
	sm.Lifetime = c.Lifetime
	if sm.Lifetime == 0 {
		sm.Lifetime = 12 * time.Hour
	}
	sm.HashTokenInStore = true
	sm.Cookie.Name = SessionCookie
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Secure = c.Secure
	sm.Cookie.Path = "/"
	sm.Cookie.Persist = false // a browser session cookie: closing the browser logs out
	return sm
}

// Server holds the portal's dependencies.
type Server struct {
	svc    *escrow.Service
	acc    *access.Service
	sm     *scs.SessionManager
	log    *slog.Logger
	lookup func(ctx context.Context, id string) (access.User, error)
	pages  map[string]*template.Template
	blobs  blob.Store
	notes  *notify.Service
	// trustForwarded: see Options.TrustForwardedFor.
	trustForwarded bool
	sandbox        bool // see Options.Sandbox
}

// New returns the portal, to be mounted at "/" beside the API (which keeps /v1 and
// /openapi.json: the more specific patterns win on a ServeMux). It refuses a cross-origin form
// post itself (net/http's CrossOriginProtection, against CSRF), so it is protected however it
// is mounted; the caller adds no layer of its own.
func New(svc *escrow.Service, acc *access.Service, sessions *scs.SessionManager, opt Options) http.Handler {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if d, ok := opt.Blobs.(*blob.Dir); ok && d == nil {
		opt.Blobs = nil // a nil directory is no store
	}
	s := &Server{svc: svc, acc: acc, sm: sessions, log: opt.Logger, lookup: opt.LookupUser, pages: parsePages(), blobs: opt.Blobs,
		notes: opt.Notifications, trustForwarded: opt.TrustForwardedFor, sandbox: opt.Sandbox}
	sessions.ErrorFunc = func(w http.ResponseWriter, r *http.Request, err error) {
		s.fail(w, r, err)
	}

	app := http.NewServeMux()
	app.HandleFunc("GET /login", s.loginPage)
	app.HandleFunc("POST /login", s.login)
	app.HandleFunc("POST /logout", s.logout)
	app.Handle("GET /account/password", s.auth(s.passwordPage))
	app.Handle("POST /account/password", s.auth(s.changePassword))
	app.Handle("GET /{$}", s.auth(s.dashboard))
	app.Handle("GET /suppliers", s.auth(s.directory))
	app.Handle("GET /orders/new", s.auth(s.newOrderPage))
	app.Handle("POST /orders/new", s.auth(s.placeOrder))
	app.Handle("GET /orders/{id}", s.auth(s.orderPage))
	app.Handle("POST /orders/{id}/messages", s.auth(s.postMessage))
	app.Handle("POST /orders/{id}/{action}", s.auth(s.orderAction))
	s.adminRoutes(app)
	s.adminUserRoutes(app)
	s.arbiterRoutes(app)
	s.contractRoutes(app)
	s.creditRoutes(app)
	s.notificationRoutes(app)
	s.operationsRoutes(app)
	s.payoutRoutes(app)
	app.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.render(w, r, http.StatusNotFound, "error.html", "Not found", errorData{Message: "There is no page at this address."})
	})

	static, err := fs.Sub(assets, "static")
	if err != nil {
		panic(err) // embedded at build time
	}
	mux := http.NewServeMux()
	mux.Handle("GET /static/", cacheFor(time.Hour, http.StripPrefix("/static/", http.FileServerFS(static))))
	mux.Handle("/", headers(limitBody(secureOverTLS(sessions.LoadAndSave(app)))))
	return http.NewCrossOriginProtection().Handler(mux)
}

// headers sets what every page sends: no caching of private pages, no framing, no sniffing,
// and a content security policy that allows only this origin's scripts and styles.
func headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
		next.ServeHTTP(w, r)
	})
}

// secureOverTLS marks the session cookie Secure in the answer to a request that arrived over
// TLS, whatever SessionConfig.Secure says: a browser that came by https keeps the cookie to
// https. Behind a proxy that ends TLS the request is plain http here, and SessionConfig.Secure
// (TRADEASSURE_COOKIE_SECURE=1) marks it.
func secureOverTLS(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil {
			next.ServeHTTP(w, r)
			return
		}
		sw := &secureCookies{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		sw.mark() // the session manager sets its cookie after the handler when it wrote nothing
	})
}

// secureCookies marks the session cookie Secure before the headers go out.
type secureCookies struct{ http.ResponseWriter }

func (w *secureCookies) WriteHeader(code int) { w.mark(); w.ResponseWriter.WriteHeader(code) }

func (w *secureCookies) Write(b []byte) (int, error) { w.mark(); return w.ResponseWriter.Write(b) }

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *secureCookies) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *secureCookies) mark() {
	cookies := w.Header()["Set-Cookie"]
	for i, v := range cookies {
		c, err := http.ParseSetCookie(v)
		if err != nil || c.Name != SessionCookie || c.Secure {
			continue
		}
		c.Secure = true
		cookies[i] = c.String()
	}
}

func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := int64(FormBodyMax)
		if uploadRoute(r) { // forms that take files: contract, message, inspection report
			limit = UploadBodyMax
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		next.ServeHTTP(w, r)
	})
}

func cacheFor(d time.Duration, next http.Handler) http.Handler {
	v := "public, max-age=" + itoa(int64(d/time.Second))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", v)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(w, r)
	})
}

// page is what every template receives.
type page struct {
	Title  string
	Viewer *viewer
	Flash  string
	Now    time.Time
	Data   any
	Inbox  *inboxLink // the menu's link to the viewer's notifications; nil without them
	// Sandbox shows the banner that payments are simulated (Options.Sandbox).
	Sandbox bool
}

// render executes a page into a buffer first, so that a template error becomes a clean 500
// instead of half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name, title string, data any) {
	t, ok := s.pages[name]
	if !ok {
		s.fail(w, r, errors.New("no template "+name))
		return
	}
	p := page{Title: title, Viewer: viewerFrom(r.Context()), Now: s.svc.Now(), Data: data, Sandbox: s.sandbox}
	if p.Viewer != nil {
		p.Flash = s.sm.PopString(r.Context(), "flash")
		p.Inbox = s.inboxLink(r)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// renderPartial executes one named template of a page, for htmx swaps.
func (s *Server) renderPartial(w http.ResponseWriter, r *http.Request, name, block string, data any) {
	var buf bytes.Buffer
	if err := s.pages[name].ExecuteTemplate(&buf, block, data); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(buf.Bytes())
}

type errorData struct{ Message string }

// fail answers an error that is not the user's doing: logged in full, shown as a plain page.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		http.Error(w, "the form is too large", http.StatusRequestEntityTooLarge)
		return
	}
	if e, ok := fault.As(err); ok && e.Code == fault.NotFound {
		s.render(w, r, http.StatusNotFound, "error.html", "Not found", errorData{Message: e.Message})
		return
	}
	id := newToken()[:12]
	s.log.Error("portal error", "ref", id, "method", r.Method, "path", r.URL.Path, "err", err)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	template.Must(template.New("").Parse(`<!doctype html><html lang="en"><title>Error</title>`+
		`<p>Something went wrong on our side. It has been logged with reference {{.}}.</p></html>`)).Execute(w, id)
}

// redirect answers a POST with 303 See Other, so that a reload does not post again.
func (s *Server) redirect(w http.ResponseWriter, r *http.Request, to, flash string) {
	if flash != "" {
		s.sm.Put(r.Context(), "flash", flash)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// newToken returns 128 random bits as hex: idempotency keys and error references.
func newToken() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b[:])
}

// actorOf is the logged-in actor of a request that passed auth.
func actorOf(r *http.Request) trade.Actor { return viewerFrom(r.Context()).Actor }
