package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/tradeassure/tradeassure/access"
	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/trade"
)

// adminUserRoutes registers the admin's pages for the people and API keys of every
// organization: list them (never a secret or a hash), add a user with a one-time password,
// disable, enable and reset a password, issue and revoke API keys.
func (s *Server) adminUserRoutes(app *http.ServeMux) {
	admin := func(h http.HandlerFunc) http.Handler { return s.auth(s.only(h, trade.RoleAdmin)) }
	app.Handle("GET /admin/users", admin(s.accessOrgsPage))
	app.Handle("GET /admin/users/{org}", admin(s.orgUsersPage))
	app.Handle("POST /admin/users/{org}/users", admin(s.addUser))
	app.Handle("POST /admin/users/{org}/users/{id}/{action}", admin(s.userAction))
	app.Handle("POST /admin/users/{org}/keys", admin(s.addAPIKey))
	app.Handle("POST /admin/users/{org}/keys/{id}/revoke", admin(s.revokeAPIKey))
}

// accessOrg is an organization whose credentials the admin manages; the platform's staff
// belong to one without a record.
type accessOrg struct {
	ID      string
	Name    string
	Kind    trade.OrgKind
	Country string
	Created time.Time
}

// orgGroup is the organizations of one kind on the list page.
type orgGroup struct {
	Heading string
	Orgs    []accessOrg
}

var orgKindHeadings = []struct {
	kind    trade.OrgKind
	heading string
}{{trade.KindBuyer, "Buyers"}, {trade.KindSupplier, "Suppliers"}, {trade.KindInspector, "Inspection companies"}}

func (s *Server) accessOrgsPage(w http.ResponseWriter, r *http.Request) {
	groups := []orgGroup{{Heading: "Platform staff", Orgs: []accessOrg{platformOrg()}}}
	for _, k := range orgKindHeadings {
		os, err := s.svc.Orgs(r.Context(), k.kind)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		g := orgGroup{Heading: k.heading}
		for _, o := range os {
			g.Orgs = append(g.Orgs, accessOrg{ID: o.ID, Name: o.Name, Kind: o.Kind, Country: o.Country, Created: o.CreatedAt})
		}
		groups = append(groups, g)
	}
	s.render(w, r, http.StatusOK, "admin-users.html", "Users and API keys", groups)
}

func platformOrg() accessOrg {
	return accessOrg{ID: access.PlatformOrg, Name: "Platform", Kind: trade.KindPlatform}
}

// lookupOrg reads the organization of the path, or a not_found fault.
func (s *Server) lookupOrg(ctx context.Context, id string) (accessOrg, error) {
	if id == access.PlatformOrg {
		return platformOrg(), nil
	}
	o, err := s.svc.Org(ctx, id)
	if err != nil {
		return accessOrg{}, err
	}
	return accessOrg{ID: o.ID, Name: o.Name, Kind: o.Kind, Country: o.Country, Created: o.CreatedAt}, nil
}

// orgUsersData is the page of one organization's users and keys, with a form for each command.
type orgUsersData struct {
	Org      accessOrg
	Roles    []trade.Role
	Users    []userRow
	Keys     []keyRow
	AddUser  *form
	AddKey   *form
	Actions  string  // a refused action on a user or key, shown above the tables
	Shown    *secret // what a command just created, shown once
	ViewerID string
	History  []accessHistoryRow // the audit of the organization's credentials, newest first
}

// HistoryMax is how many records the History shows at most.
func (orgUsersData) HistoryMax() int { return access.AuditMax }

// accessHistoryRow is one record of the audit of account administration, as the page shows it.
type accessHistoryRow struct {
	access.Record
	What string // "Reset the password"
	By   string // the actor's email when a user did it, else their role and credential ID
}

// auditActions says what each recorded action did.
var auditActions = map[access.Action]string{
	access.ActionUserAdded:       "Added the user",
	access.ActionUserDisabled:    "Disabled the user",
	access.ActionUserEnabled:     "Enabled the user",
	access.ActionPasswordReset:   "Reset the password",
	access.ActionPasswordChanged: "Changed their own password",
	access.ActionAPIKeyCreated:   "Issued the API key",
	access.ActionAPIKeyRevoked:   "Revoked the API key",
}

// history reads an organization's audit records and names who did each.
func (s *Server) history(ctx context.Context, a trade.Actor, orgID string) ([]accessHistoryRow, error) {
	recs, err := s.acc.AccessAudit(ctx, a, orgID)
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	out := make([]accessHistoryRow, 0, len(recs))
	for _, rec := range recs {
		by, ok := names[rec.Actor.UserID]
		if !ok {
			by = string(rec.Actor.Role)
			if rec.Actor.UserID != "" {
				by += " " + rec.Actor.UserID // an API key, or a user no longer found
			}
			if s.lookup != nil && rec.Actor.UserID != "" {
				if u, err := s.lookup(ctx, rec.Actor.UserID); err == nil {
					by = u.Email
				} else if !errors.Is(err, access.ErrNotFound) {
					return nil, err
				}
			}
			names[rec.Actor.UserID] = by
		}
		what := auditActions[rec.Action]
		if what == "" {
			what = string(rec.Action)
		}
		out = append(out, accessHistoryRow{Record: rec, What: what, By: by})
	}
	return out, nil
}

// userRow is a user without the password hash, and the key of the row's action forms.
type userRow struct {
	access.User
	Key string
}

// keyRow is an API key without its hash, and the key of its revoke form.
type keyRow struct {
	access.APIKey
	Key string
}

// secret is the answer to a command that made a secret: shown in this response only. On a
// repeat of the command the secret is gone, and Value is empty.
type secret struct {
	Heading string // "One-time password for ana@example.com"
	Value   string
	Use     string // how to hand it over
	Repeat  string // what to do when the first answer was missed
}

func (s *Server) orgUsersPage(w http.ResponseWriter, r *http.Request) {
	s.showOrgUsers(w, r, http.StatusOK, orgUsersData{})
}

// showOrgUsers renders an organization's page; d carries a refused form, a refused action or a
// secret to show, and every form it leaves nil is a new one.
func (s *Server) showOrgUsers(w http.ResponseWriter, r *http.Request, status int, d orgUsersData) {
	ctx, a := r.Context(), actorOf(r)
	org, err := s.lookupOrg(ctx, r.PathValue("org"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	users, err := s.acc.Users(ctx, a, org.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	keys, err := s.acc.APIKeys(ctx, a, org.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if d.History, err = s.history(ctx, a, org.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	d.Org, d.Roles, d.ViewerID = org, access.RolesFor(org.Kind), a.UserID
	for _, u := range users {
		d.Users = append(d.Users, userRow{User: u, Key: newToken()})
	}
	for _, k := range keys {
		k.Hash = ""
		d.Keys = append(d.Keys, keyRow{APIKey: k, Key: newToken()})
	}
	role := ""
	if len(d.Roles) == 1 {
		role = string(d.Roles[0])
	}
	if d.AddUser == nil {
		d.AddUser = newForm(url.Values{"role": {role}})
	}
	if d.AddKey == nil {
		d.AddKey = newForm(url.Values{"key_role": {role}})
	}
	s.render(w, r, status, "admin-users-org.html", org.Name+": users and API keys", d)
}

// commandForm reads a posted form and its idempotency key; ok is false when the key is missing
// (the form then says to reload).
func commandForm(r *http.Request) (f *form, key string, ok bool, err error) {
	if err := r.ParseForm(); err != nil {
		return nil, "", false, err
	}
	f = newForm(formValues(r.PostForm))
	f.Values.Del("idempotency_key")
	key, ok = idempotencyKey(r, f)
	return f, key, ok, nil
}

// addUser adds a user with a one-time password and shows it, once, in this answer (not after a
// redirect: the password is never stored, not even in the session).
func (s *Server) addUser(w http.ResponseWriter, r *http.Request) {
	f, key, ok, err := commandForm(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	email, name, role := strings.TrimSpace(f.Value("email")), strings.TrimSpace(f.Value("name")), f.Value("role")
	if ok && role == "" {
		f.add("role", "Choose a role.")
	}
	var u access.User
	var pw string
	if ok && !f.Failed() {
		u, pw, err = s.acc.AddUser(r.Context(), actorOf(r), key, r.PathValue("org"), email, name, trade.Role(role))
		if err != nil && !f.setError(err) {
			s.fail(w, r, err)
			return
		}
	}
	if f.Failed() {
		s.showOrgUsers(w, r, http.StatusUnprocessableEntity, orgUsersData{AddUser: f.rekey()})
		return
	}
	s.showOrgUsers(w, r, http.StatusOK, orgUsersData{Shown: &secret{
		Heading: "One-time password for " + u.Email, Value: pw,
		Use:    "Give it to " + u.Name + " by a channel other than email; they log in with it and change it under Password.",
		Repeat: "The user " + u.Email + " was added by this form before; its password was shown only in answer to that submission. If nobody saw it, reset the password.",
	}})
}

// userAction disables, enables a user or resets their password.
func (s *Server) userAction(w http.ResponseWriter, r *http.Request) {
	f, key, ok, err := commandForm(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ctx, a, orgID, action := r.Context(), actorOf(r), r.PathValue("org"), r.PathValue("action")
	if action != "disable" && action != "enable" && action != "reset-password" {
		s.render(w, r, http.StatusNotFound, "error.html", "Not found", errorData{Message: "There is no such action."})
		return
	}
	if !ok {
		s.showOrgUsers(w, r, http.StatusUnprocessableEntity, orgUsersData{Actions: f.Error})
		return
	}
	u, err := s.orgUser(ctx, a, orgID, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var pw, flash string
	switch action {
	case "disable":
		_, err = s.acc.DisableUser(ctx, a, u.ID)
		flash = u.Email + " is disabled and logged out."
	case "enable":
		_, err = s.acc.EnableUser(ctx, a, u.ID)
		flash = u.Email + " can log in again."
	case "reset-password":
		_, pw, err = s.acc.ResetPassword(ctx, a, key, u.ID)
	}
	if err != nil {
		if !f.setError(err) {
			s.fail(w, r, err)
			return
		}
		s.showOrgUsers(w, r, http.StatusConflict, orgUsersData{Actions: f.Error})
		return
	}
	if action != "reset-password" {
		s.redirect(w, r, "/admin/users/"+orgID, flash)
		return
	}
	s.showOrgUsers(w, r, http.StatusOK, orgUsersData{Shown: &secret{
		Heading: "New one-time password for " + u.Email, Value: pw,
		Use:    "The old password no longer works, and any login lockout of the account is lifted. Give the new one to " + u.Name + " by a channel other than email.",
		Repeat: "The password of " + u.Email + " was reset by this form before; the new one was shown only in answer to that submission. If nobody saw it, reset it again.",
	}})
}

// orgUser reads a user of the organization in the path: a user of another one is not found.
func (s *Server) orgUser(ctx context.Context, a trade.Actor, orgID, id string) (access.User, error) {
	users, err := s.acc.Users(ctx, a, orgID)
	if err != nil {
		return access.User{}, err
	}
	for _, u := range users {
		if u.ID == id {
			return u, nil
		}
	}
	return access.User{}, fault.New(fault.NotFound, "user_not_found", "there is no such user in this organization")
}

// addAPIKey issues a key and shows its token, once, in this answer.
func (s *Server) addAPIKey(w http.ResponseWriter, r *http.Request) {
	f, key, ok, err := commandForm(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	name, role := strings.TrimSpace(f.Value("key_name")), f.Value("key_role")
	if ok && role == "" {
		f.add("key_role", "Choose a role.")
	}
	var token string
	var k access.APIKey
	if ok && !f.Failed() {
		token, k, err = s.acc.CreateAPIKeyOnce(r.Context(), actorOf(r), key, r.PathValue("org"), trade.Role(role), name)
		if err != nil && !f.setError(err) {
			s.fail(w, r, err)
			return
		}
		// The inputs are named apart from the user form's on the same page.
		for from, to := range map[string]string{"name": "key_name", "role": "key_role"} {
			if msg, ok := f.Errors[from]; ok {
				delete(f.Errors, from)
				f.add(to, msg)
			}
		}
	}
	if f.Failed() {
		s.showOrgUsers(w, r, http.StatusUnprocessableEntity, orgUsersData{AddKey: f.rekey()})
		return
	}
	s.showOrgUsers(w, r, http.StatusOK, orgUsersData{Shown: &secret{
		Heading: "API key " + k.Name, Value: token,
		Use:    "The marketplace software sends it as Authorization: Bearer …. Only its hash is kept: store it in the software's secrets now.",
		Repeat: "The key " + k.Name + " was issued by this form before; its secret was shown only in answer to that submission. If nobody saw it, revoke the key and issue another.",
	}})
}

// revokeAPIKey revokes a key of the organization in the path.
func (s *Server) revokeAPIKey(w http.ResponseWriter, r *http.Request) {
	f, _, ok, err := commandForm(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !ok {
		s.showOrgUsers(w, r, http.StatusUnprocessableEntity, orgUsersData{Actions: f.Error})
		return
	}
	ctx, a, orgID, id := r.Context(), actorOf(r), r.PathValue("org"), r.PathValue("id")
	keys, err := s.acc.APIKeys(ctx, a, orgID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	i := slices.IndexFunc(keys, func(k access.APIKey) bool { return k.ID == id })
	if i < 0 {
		s.fail(w, r, fault.New(fault.NotFound, "api_key_not_found", "there is no such API key in this organization"))
		return
	}
	if err := s.acc.RevokeAPIKey(ctx, a, id); err != nil {
		s.fail(w, r, err)
		return
	}
	s.redirect(w, r, "/admin/users/"+orgID, "The key "+keys[i].Name+" is revoked: requests with it are refused from now on.")
}
