// Package trade is the pure domain of Trade Assurance: organizations, purchase contracts,
// orders and their lifecycle, disputes, escrow movements and supplier coverage. It performs no
// I/O: a transition takes the order, the command, the actor and the time, and returns what must
// be written (ledger transfers, events, timers) or a *fault.Error.
package trade

import (
	"time"

	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/money"
)

// OrgKind is what an organization is to the platform.
type OrgKind string

const (
	KindBuyer     OrgKind = "buyer"
	KindSupplier  OrgKind = "supplier"
	KindInspector OrgKind = "inspector" // a third-party QC company
	KindPlatform  OrgKind = "platform"  // the operator: arbiters and admins belong to it
)

// Valid reports whether k is a known kind.
func (k OrgKind) Valid() bool {
	return k == KindBuyer || k == KindSupplier || k == KindInspector || k == KindPlatform
}

// ReleasePolicy says when escrowed money goes to the supplier (R14).
type ReleasePolicy string

const (
	// HoldUntilShipment releases everything once the goods passed and shipped on time (R12).
	HoldUntilShipment ReleasePolicy = "hold_until_shipment"
	// ReleaseInitialForProduction releases the initial payment when it arrives, guaranteed by the
	// platform up to the supplier's coverage (R14).
	ReleaseInitialForProduction ReleasePolicy = "release_initial_for_production"
)

// Valid reports whether p is a known policy ("" means the platform default).
func (p ReleasePolicy) Valid() bool {
	return p == "" || p == HoldUntilShipment || p == ReleaseInitialForProduction
}

// Eligibility records whether a supplier may receive Trade Assurance orders (R1).
type Eligibility struct {
	Eligible bool      `json:"eligible"`
	Reason   string    `json:"reason"`
	Since    time.Time `json:"since"`
	By       string    `json:"by"` // the admin who decided
}

// Coverage is a supplier's Trade Assurance limit and how much of it open orders use (R22).
type Coverage struct {
	Limit    int64          `json:"limit"` // minor units of Currency
	Currency money.Currency `json:"currency"`
	Used     int64          `json:"used"`
}

// Available is the part of the limit not used by open orders.
func (c Coverage) Available() int64 {
	if a := c.Limit - c.Used; a > 0 {
		return a
	}
	return 0
}

// Org is an organization: a buyer company, a supplier, an inspection company, or the platform.
type Org struct {
	ID          string        `json:"id"`
	Kind        OrgKind       `json:"kind"`
	Name        string        `json:"name"`
	Country     string        `json:"country"` // ISO 3166-1 alpha-2
	Eligibility Eligibility   `json:"eligibility"`
	Coverage    Coverage      `json:"coverage"`
	Policy      ReleasePolicy `json:"release_policy,omitempty"` // overrides the platform's (R14)
	CreatedAt   time.Time     `json:"created_at"`
}

// Limits on organization data.
const (
	OrgNameMax     = 200
	ReasonMax      = 2000
	CoverageMaxUSD = 100_000_000_00 // a sanity bound on one supplier's limit, in minor units
)

// NewOrg validates and builds an organization.
func NewOrg(id string, kind OrgKind, name, country string, now time.Time) (Org, error) {
	switch {
	case !kind.Valid():
		return Org{}, fault.FieldErr("kind", "invalid_org_kind", "kind must be buyer, supplier, inspector or platform")
	case name == "" || len([]rune(name)) > OrgNameMax:
		return Org{}, fault.FieldErr("name", "invalid_name", "name must have 1 to %d characters", OrgNameMax)
	case !validCountry(country):
		return Org{}, fault.FieldErr("country", "invalid_country", "country must be an ISO 3166-1 alpha-2 code")
	}
	return Org{ID: id, Kind: kind, Name: name, Country: country, CreatedAt: now}, nil
}

func validCountry(c string) bool {
	return len(c) == 2 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z'
}

// SetEligibility records an admin's eligibility decision (R1). A reason is required either way.
func (o *Org) SetEligibility(eligible bool, reason, by string, now time.Time) error {
	if o.Kind != KindSupplier {
		return fault.New(fault.Conflict, "not_a_supplier", "only suppliers have Trade Assurance eligibility")
	}
	if reason == "" || len(reason) > ReasonMax {
		return fault.FieldErr("reason", "reason_required", "give a reason of at most %d characters", ReasonMax)
	}
	o.Eligibility = Eligibility{Eligible: eligible, Reason: reason, Since: now, By: by}
	return nil
}

// SetCoverageLimit changes a supplier's limit (R22). Lowering it below what is in use is
// allowed: open orders keep their coverage, and new ones get none until orders close.
func (o *Org) SetCoverageLimit(limit money.Amount) error {
	if o.Kind != KindSupplier {
		return fault.New(fault.Conflict, "not_a_supplier", "only suppliers have a coverage limit")
	}
	if limit.IsNegative() || limit.Minor > CoverageMaxUSD {
		return fault.FieldErr("limit", "invalid_coverage_limit", "the limit must be between 0 and %d", CoverageMaxUSD)
	}
	if o.Coverage.Currency != "" && o.Coverage.Used != 0 && o.Coverage.Currency != limit.Currency {
		return fault.FieldErr("limit", "coverage_currency_locked", "the currency cannot change while orders use the limit")
	}
	o.Coverage.Limit, o.Coverage.Currency = limit.Minor, limit.Currency
	return nil
}

// Role is what an actor acts as.
type Role string

const (
	RoleBuyer     Role = "buyer"
	RoleSupplier  Role = "supplier"
	RoleInspector Role = "inspector"
	RoleArbiter   Role = "arbiter"
	RoleAdmin     Role = "admin"
	RoleSystem    Role = "system" // deadlines and rails
)

// Actor is who issues a command: a role, the organization acted for, and the user.
type Actor struct {
	Role   Role   `json:"role"`
	OrgID  string `json:"org_id"`
	UserID string `json:"user_id,omitempty"`
}

// System is the actor of deadlines and payment rails.
var System = Actor{Role: RoleSystem, OrgID: "platform", UserID: "system"}
