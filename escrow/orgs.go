package escrow

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/ledger"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/trade"
)

func requireAdmin(a trade.Actor) error {
	if a.Role != trade.RoleAdmin && a.Role != trade.RoleSystem {
		return fault.New(fault.Forbidden, "role_not_allowed", "only an admin may do this")
	}
	return nil
}

// CreateOrg registers an organization. Admins create any kind.
func (s *Service) CreateOrg(ctx context.Context, a trade.Actor, key string, kind trade.OrgKind, name, country string) (trade.Org, error) {
	if err := requireAdmin(a); err != nil {
		return trade.Org{}, err
	}
	return run(ctx, s, a, key, []any{"create_org", kind, name, country}, func(u *unit) (trade.Org, error) {
		o, err := trade.NewOrg(newID(string(kind)[:3]), kind, name, country, u.now)
		if err != nil {
			return trade.Org{}, err
		}
		if err := u.tx.InsertOrg(ctx, o); err != nil {
			return trade.Org{}, fmt.Errorf("insert org: %w", err)
		}
		return o, u.orgChanged(ctx, o, "created", o)
	})
}

// orgChanged records an organization change in its history and its event stream.
func (u *unit) orgChanged(ctx context.Context, o trade.Org, field string, change any) error {
	b, err := json.Marshal(change)
	if err != nil {
		return fmt.Errorf("marshal change: %w", err)
	}
	if err := u.tx.AppendOrgHistory(ctx, OrgChange{OrgID: o.ID, At: u.now, Actor: u.actor, Field: field, Change: b}); err != nil {
		return fmt.Errorf("append org history: %w", err)
	}
	return u.appendEvent(ctx, o.ID, []string{o.ID}, "org."+field, change)
}

// updateOrg locks a supplier, lets change alter it, and records the change.
func (s *Service) updateOrg(ctx context.Context, a trade.Actor, key, id, field string, req any, change func(*trade.Org, *unit) error) (trade.Org, error) {
	if err := requireAdmin(a); err != nil {
		return trade.Org{}, err
	}
	return run(ctx, s, a, key, []any{field, id, req}, func(u *unit) (trade.Org, error) {
		o, err := u.tx.LockOrg(ctx, id)
		if err != nil {
			return trade.Org{}, notFound(err, "organization")
		}
		if err := change(&o, u); err != nil {
			return trade.Org{}, err
		}
		if err := u.tx.UpdateOrg(ctx, o); err != nil {
			return trade.Org{}, fmt.Errorf("update org: %w", err)
		}
		return o, u.orgChanged(ctx, o, field, req)
	})
}

// SetEligibility marks a supplier eligible or not for Trade Assurance, with a reason (R1).
func (s *Service) SetEligibility(ctx context.Context, a trade.Actor, key, supplierID string, eligible bool, reason string) (trade.Org, error) {
	req := map[string]any{"eligible": eligible, "reason": reason}
	return s.updateOrg(ctx, a, key, supplierID, "eligibility", req, func(o *trade.Org, u *unit) error {
		return o.SetEligibility(eligible, reason, a.UserID, u.now)
	})
}

// SetCoverageLimit sets a supplier's Trade Assurance limit (R22).
func (s *Service) SetCoverageLimit(ctx context.Context, a trade.Actor, key, supplierID string, limit money.Amount) (trade.Org, error) {
	return s.updateOrg(ctx, a, key, supplierID, "coverage_limit", limit, func(o *trade.Org, _ *unit) error {
		return o.SetCoverageLimit(limit)
	})
}

// SetReleasePolicy overrides the platform's release policy for one supplier (R14).
func (s *Service) SetReleasePolicy(ctx context.Context, a trade.Actor, key, supplierID string, p trade.ReleasePolicy) (trade.Org, error) {
	return s.updateOrg(ctx, a, key, supplierID, "release_policy", p, func(o *trade.Org, _ *unit) error {
		if !p.Valid() || o.Kind != trade.KindSupplier {
			return fault.FieldErr("release_policy", "invalid_release_policy", "unknown policy, or not a supplier")
		}
		o.Policy = p
		return nil
	})
}

// Org returns an organization.
func (s *Service) Org(ctx context.Context, id string) (trade.Org, error) {
	var o trade.Org
	err := s.store.Read(ctx, func(r Reader) error {
		var err error
		o, err = r.Org(ctx, id)
		return err
	})
	return o, notFound(err, "organization")
}

// Orgs lists organizations of a kind.
func (s *Service) Orgs(ctx context.Context, kind trade.OrgKind) ([]trade.Org, error) {
	var out []trade.Org
	err := s.store.Read(ctx, func(r Reader) error {
		var err error
		out, err = r.Orgs(ctx, kind)
		return err
	})
	return out, err
}

// FundGuarantee moves platform money received on a rail into the guarantee fund (R14).
func (s *Service) FundGuarantee(ctx context.Context, a trade.Actor, key string, amount money.Amount) (ledger.Transfer, error) {
	if err := requireAdmin(a); err != nil {
		return ledger.Transfer{}, err
	}
	if !amount.IsPositive() {
		return ledger.Transfer{}, fault.FieldErr("amount", "amount_not_positive", "the amount must be more than zero")
	}
	return run(ctx, s, a, key, []any{"fund_guarantee", amount}, func(u *unit) (ledger.Transfer, error) {
		t, err := ledger.NewTransfer(newID("tr"), "guarantee_funded", amount.Currency, "", u.now).
			Post(trade.RailAccount("tt_wire", amount.Currency), trade.FundAccount(amount.Currency), amount.Minor).Build()
		if err != nil {
			return ledger.Transfer{}, err
		}
		if err := u.tx.PostTransfer(ctx, t); err != nil {
			return ledger.Transfer{}, postError(t, err)
		}
		return t, u.appendEvent(ctx, ledger.Platform, nil, "guarantee.funded", map[string]any{"amount": amount})
	})
}
