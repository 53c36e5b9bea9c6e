package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tradeassure/tradeassure/access"
	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/trade"
)

// viewer is the logged-in person.
type viewer struct {
	trade.Actor
	Email   string
	Name    string
	OrgName string
	// MustChangePassword: the user logged in with a one-time password and may reach only the
	// password page until they choose their own.
	MustChangePassword bool
}

// passwordPath is the page where a user changes their password; the only page a user who must
// change theirs may reach.
const passwordPath = "/account/password"

// Is reports whether the viewer acts as role; templates use it to show role-specific links.
func (v *viewer) Is(role string) bool { return string(v.Role) == role }

type ctxKey struct{}

func viewerFrom(ctx context.Context) *viewer {
	v, _ := ctx.Value(ctxKey{}).(*viewer)
	return v
}

// Session keys.
const (
	sessUser  = "user_id"
	sessRole  = "role"
	sessOrg   = "org_id"
	sessEmail = "email"
	sessName  = "name"
	// sessPassword is the password the session was opened with (passwordStamp): a session
	// whose stamp no longer matches the user's password ends at its next request.
	sessPassword = "password_stamp"
)

// passwordStamp identifies the password a user has now without revealing anything of it: a
// digest of its stored hash, which changes with every new password (each hash has its own
// salt). A session keeps the stamp of the password it was opened with, so changing the
// password — by the user or by an admin's reset — ends every other session of the user at
// its next request; the session that changed it takes the new stamp and goes on (the pattern
// of Django's session auth hash).
func passwordStamp(u access.User) string {
	sum := sha256.Sum256([]byte("tradeassure session password stamp\x00" + u.PasswordHash))
	return hex.EncodeToString(sum[:16])
}

// auth lets a request through only with a live session, and puts the viewer in its context.
// Without one, a GET goes to the login page and comes back after it; anything else is refused.
func (s *Server) auth(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		v := &viewer{Actor: trade.Actor{Role: trade.Role(s.sm.GetString(ctx, sessRole)),
			OrgID: s.sm.GetString(ctx, sessOrg), UserID: s.sm.GetString(ctx, sessUser)},
			Email: s.sm.GetString(ctx, sessEmail), Name: s.sm.GetString(ctx, sessName)}
		if v.UserID != "" && s.lookup != nil {
			u, err := s.lookup(ctx, v.UserID)
			if err != nil && !errors.Is(err, access.ErrNotFound) {
				s.fail(w, r, err)
				return
			}
			v.MustChangePassword = err == nil && u.MustChangePassword
			if err != nil || u.DisabledAt != nil || u.Role != v.Role || u.OrgID != v.OrgID ||
				s.sm.GetString(ctx, sessPassword) != passwordStamp(u) {
				if err := s.sm.Destroy(ctx); err != nil {
					s.fail(w, r, err)
					return
				}
				v.UserID = ""
			}
		}
		if v.UserID == "" {
			if r.Method != http.MethodGet {
				http.Error(w, "log in first", http.StatusUnauthorized)
				return
			}
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if v.MustChangePassword && r.URL.Path != passwordPath {
			// A one-time password opens the password page only (logout and the static assets
			// are outside auth); a form posted elsewhere is not acted on.
			http.Redirect(w, r, passwordPath, http.StatusSeeOther)
			return
		}
		v.OrgName = s.orgName(ctx, v.OrgID)
		h(w, r.WithContext(context.WithValue(ctx, ctxKey{}, v)))
	})
}

// orgName names an organization for people; the platform has no org record.
func (s *Server) orgName(ctx context.Context, id string) string {
	if id == access.PlatformOrg {
		return "Platform"
	}
	if o, err := s.svc.Org(ctx, id); err == nil {
		return o.Name
	}
	return id
}

// clientAddr is the address a login is counted against: the peer's, or behind a trusted
// reverse proxy (Options.TrustForwardedFor) the last address in X-Forwarded-For, the one that
// proxy appended; anything before it may have been written by the client.
func (s *Server) clientAddr(r *http.Request) string {
	if s.trustForwarded {
		if v := r.Header.Values("X-Forwarded-For"); len(v) > 0 {
			last := v[len(v)-1]
			if i := strings.LastIndexByte(last, ','); i >= 0 {
				last = last[i+1:]
			}
			if last = strings.TrimSpace(last); last != "" {
				return last
			}
		}
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// safeNext keeps a post-login redirect on this site: a local path, never "//host" or a URL.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.ContainsAny(next, "\r\n") {
		return "/"
	}
	return next
}

type loginData struct {
	Form   *form
	Next   string
	Logout bool
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	if s.sm.GetString(r.Context(), sessUser) != "" {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	q := r.URL.Query()
	s.render(w, r, http.StatusOK, "login.html", "Log in",
		loginData{Form: newForm(nil), Next: safeNext(q.Get("next")), Logout: q.Has("out")})
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	email, password := strings.TrimSpace(r.PostForm.Get("email")), r.PostForm.Get("password")
	next := safeNext(r.PostForm.Get("next"))
	f := newForm(url.Values{"email": {email}}) // the password is never sent back
	if email == "" || password == "" {
		f.Error = "Give your email and password."
		s.render(w, r, http.StatusUnprocessableEntity, "login.html", "Log in", loginData{Form: f, Next: next})
		return
	}
	if len(email) > access.EmailMax || len(password) > access.PasswordMax {
		f.Error = "Wrong email or password."
		s.render(w, r, http.StatusUnauthorized, "login.html", "Log in", loginData{Form: f, Next: next})
		return
	}
	a, u, err := s.acc.LoginFrom(r.Context(), email, password, s.clientAddr(r))
	var lockedOut *access.LockedError
	if errors.As(err, &lockedOut) {
		// The same answer whether or not the account exists, and no password was hashed.
		e, _ := fault.As(err)
		f.Error = sentence(e.Message) // "Too many attempts; try again in 14 minutes."
		w.Header().Set("Retry-After", strconv.Itoa(int((lockedOut.RetryAfter+time.Second-1)/time.Second)))
		s.render(w, r, http.StatusTooManyRequests, "login.html", "Log in", loginData{Form: f, Next: next})
		return
	}
	if err != nil {
		if fault.CodeOf(err) != fault.Unauthorized {
			s.fail(w, r, err)
			return
		}
		f.Error = "Wrong email or password."
		s.render(w, r, http.StatusUnauthorized, "login.html", "Log in", loginData{Form: f, Next: next})
		return
	}
	ctx := r.Context()
	// A new token at login: a token planted before it (session fixation) is worth nothing.
	if err := s.sm.RenewToken(ctx); err != nil {
		s.fail(w, r, err)
		return
	}
	s.sm.Put(ctx, sessUser, a.UserID)
	s.sm.Put(ctx, sessRole, string(a.Role))
	s.sm.Put(ctx, sessOrg, a.OrgID)
	s.sm.Put(ctx, sessEmail, u.Email)
	s.sm.Put(ctx, sessName, u.Name)
	s.sm.Put(ctx, sessPassword, passwordStamp(u))
	if u.MustChangePassword {
		next = passwordPath // a one-time password is good for choosing one's own, nothing else
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if err := s.sm.Destroy(r.Context()); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/login?out=1", http.StatusSeeOther)
}

// passwordData is the password page: its form, and whether the user must change a one-time
// password before anything else (the page says why).
type passwordData struct {
	Form   *form
	Forced bool
}

func (s *Server) passwordPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "password.html", "Change your password",
		passwordData{Form: newForm(nil), Forced: viewerFrom(r.Context()).MustChangePassword})
}

func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	current, next, again := r.PostForm.Get("current_password"), r.PostForm.Get("password"), r.PostForm.Get("password_confirm")
	f := newForm(nil) // passwords are never sent back
	var err error
	if next != again {
		err = fault.FieldErr("password_confirm", "passwords_differ", "the two new passwords differ")
	} else if len(current) > access.PasswordMax {
		err = fault.FieldErr("current_password", "invalid_credentials", "the current password is wrong")
	} else {
		err = s.acc.ChangePassword(r.Context(), actorOf(r), current, next)
	}
	if err != nil {
		if !f.setError(err) {
			s.fail(w, r, err)
			return
		}
		s.render(w, r, http.StatusUnprocessableEntity, "password.html", "Change your password",
			passwordData{Form: f, Forced: viewerFrom(r.Context()).MustChangePassword})
		return
	}
	// This session goes on under a new token with the new password's stamp; every other
	// session of the user ends at its next request (auth compares the stamps).
	ctx := r.Context()
	if err := s.sm.RenewToken(ctx); err != nil {
		s.fail(w, r, err)
		return
	}
	if s.lookup != nil {
		u, err := s.lookup(ctx, actorOf(r).UserID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.sm.Put(ctx, sessPassword, passwordStamp(u))
	}
	s.redirect(w, r, "/", "Your password was changed.")
}
