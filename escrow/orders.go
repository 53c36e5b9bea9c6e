package escrow

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/trade"
)

// Place creates an order at checkout (R1, R2).
func (s *Service) Place(ctx context.Context, a trade.Actor, key string, p trade.Place) (*trade.Order, error) {
	p.Lint = nil
	if p.Contract != nil {
		c := *p.Contract
		var err error
		if c.Attachments, err = s.resolve(ctx, "attachments", c.Attachments); err != nil {
			return nil, err
		}
		p.Contract, p.Lint = &c, specCheck(c)
	}
	return run(ctx, s, a, key, struct {
		Op string
		P  trade.Place
	}{"place", p}, func(u *unit) (*trade.Order, error) {
		sup, err := u.tx.Org(ctx, p.SupplierID)
		if err != nil {
			return nil, fault.FieldErr("supplier_id", "supplier_not_found", "no such supplier")
		}
		if p.Contract != nil {
			if err := checkAttachable(ctx, u, nil, "attachments", p.Contract.Attachments); err != nil {
				return nil, err
			}
		}
		id := newID("ord")
		o, fx, err := trade.PlaceOrder(id, a, p, trade.Env{Now: u.now, Config: s.cfg, Supplier: sup, ID: id[4:]})
		if err != nil {
			return nil, err
		}
		if err := u.write(ctx, o, 0, fx, s); err != nil {
			return nil, err
		}
		return o, nil
	})
}

// Do applies a lifecycle command to an order on behalf of a.
func (s *Service) Do(ctx context.Context, a trade.Actor, key, orderID string, cmd trade.Command) (*trade.Order, error) {
	return s.DoIfVersion(ctx, a, key, orderID, 0, cmd)
}

// DoIfVersion is Do that first checks, under the order's lock, that the order is still at
// version (0 skips the check): optimistic concurrency for clients that read before they write.
func (s *Service) DoIfVersion(ctx context.Context, a trade.Actor, key, orderID string, version int64, cmd trade.Command) (*trade.Order, error) {
	cmd, err := s.resolveCommand(ctx, cmd)
	if err != nil {
		return nil, err
	}
	return run(ctx, s, a, key, struct {
		Op, Order string
		Cmd       trade.Command
	}{string(cmd.Event()), orderID, cmd}, func(u *unit) (*trade.Order, error) {
		if version != 0 {
			o, err := u.tx.LockOrder(ctx, orderID)
			if err != nil || !o.Visible(a) {
				return nil, fault.New(fault.NotFound, "order_not_found", "no such order")
			}
			if o.Version != version {
				return nil, fault.New(fault.Conflict, "version_mismatch", "the order changed (now version %d); read it again", o.Version)
			}
		}
		return s.apply(ctx, u, orderID, cmd)
	})
}

// apply locks the order, decides cmd and writes the outcome.
func (s *Service) apply(ctx context.Context, u *unit, orderID string, cmd trade.Command) (*trade.Order, error) {
	o, err := u.tx.LockOrder(ctx, orderID)
	if err != nil {
		return nil, notFound(err, "order")
	}
	if !o.Visible(u.actor) {
		return nil, fault.New(fault.NotFound, "order_not_found", "no such order")
	}
	// The files are checked for a role that may issue the command at all, so that any other
	// hears that it may not, whatever it attached.
	if field, atts := commandAttachments(cmd); len(atts) > 0 && slices.Contains(trade.RolesFor(cmd.Event()), u.actor.Role) {
		if err := checkAttachable(ctx, u, o, field, atts); err != nil {
			return nil, err
		}
	}
	sup, err := u.tx.Org(ctx, o.SupplierID)
	if err != nil {
		return nil, fmt.Errorf("load supplier %s: %w", o.SupplierID, err)
	}
	if b, ok := cmd.(trade.BookInspection); ok {
		if insp, err := u.tx.Org(ctx, b.InspectorID); err != nil || insp.Kind != trade.KindInspector {
			return nil, fault.FieldErr("inspector_id", "inspector_not_found", "no such inspection company")
		}
	}
	if cmd, err = s.payLater(ctx, u, o, cmd); err != nil { // R11: the buyer's credit line
		return nil, err
	}
	if cmd, err = judge(u.actor, o, cmd); err != nil { // R5, R16: the verdict on a report
		return nil, err
	}
	cmd, unoffered := s.payTo(o, cmd) // R8: the account the instructions name
	prev := o.Version
	fx, err := o.Apply(u.actor, cmd, trade.Env{Now: u.now, Config: s.cfg, Supplier: sup, ID: newID("c")[2:]})
	if err != nil {
		return nil, err
	}
	if unoffered != nil { // after the domain's own refusals, which say more (role, state, method)
		return nil, unoffered
	}
	if err := u.write(ctx, o, prev, fx, s); err != nil {
		return nil, &dirtyError{err}
	}
	return o, nil
}

// dirtyError is a failure after the transaction was written to: whoever sees it must roll back,
// never go on in the same transaction as if the command had simply been refused.
type dirtyError struct{ err error }

func (e *dirtyError) Error() string { return e.err.Error() }
func (e *dirtyError) Unwrap() error { return e.err }

// refused reports whether err is a clean domain refusal: nothing was written and the
// transaction may go on.
func refused(err error) bool {
	var d *dirtyError
	return err != nil && !errors.As(err, &d) && fault.CodeOf(err) != fault.Internal
}

// PostMessage adds a message to the order's thread (R23).
func (s *Service) PostMessage(ctx context.Context, a trade.Actor, key, orderID, body string, atts []trade.Attachment) (trade.Message, error) {
	atts, err := s.resolve(ctx, "attachments", atts)
	if err != nil {
		return trade.Message{}, err
	}
	return run(ctx, s, a, key, struct {
		Op, Order, Body string
		Atts            []trade.Attachment
	}{"message", orderID, body, atts}, func(u *unit) (trade.Message, error) {
		o, err := u.tx.Order(ctx, orderID)
		if err != nil {
			return trade.Message{}, notFound(err, "order")
		}
		m, err := trade.NewMessage(o, a, newID("msg"), body, atts, u.now)
		if err != nil {
			return trade.Message{}, err
		}
		if err := checkAttachable(ctx, u, o, "attachments", atts); err != nil {
			return trade.Message{}, err
		}
		if err := u.tx.InsertMessage(ctx, m); err != nil {
			return trade.Message{}, fmt.Errorf("insert message: %w", err)
		}
		return m, u.appendEvent(ctx, o.ID, orderParties(o), "message.posted", map[string]any{"message_id": m.ID, "attachments": len(atts)})
	})
}

// Order returns an order a may see.
func (s *Service) Order(ctx context.Context, a trade.Actor, id string) (*trade.Order, error) {
	var o *trade.Order
	err := s.store.Read(ctx, func(r Reader) error {
		var err error
		o, err = r.Order(ctx, id)
		return err
	})
	if err != nil {
		return nil, notFound(err, "order")
	}
	if !o.Visible(a) {
		return nil, fault.New(fault.NotFound, "order_not_found", "no such order")
	}
	return o, nil
}

// Orders lists the orders a may see, narrowed by f.
func (s *Service) Orders(ctx context.Context, a trade.Actor, f OrderFilter) ([]*trade.Order, error) {
	switch a.Role {
	case trade.RoleBuyer:
		f.BuyerID = a.OrgID
	case trade.RoleSupplier:
		f.SupplierID = a.OrgID
	case trade.RoleInspector:
		f.InspectorID = a.OrgID
	}
	if f.Limit <= 0 || f.Limit > PageSizeMax {
		f.Limit = PageSizeMax
	}
	var out []*trade.Order
	err := s.store.Read(ctx, func(r Reader) error {
		var err error
		out, err = r.Orders(ctx, f)
		return err
	})
	return out, err
}

// Events returns the audit log of an order a may see, less what a's role may not read of it
// (an inspection company does not see the money).
func (s *Service) Events(ctx context.Context, a trade.Actor, orderID string) ([]Event, error) {
	if _, err := s.Order(ctx, a, orderID); err != nil {
		return nil, err
	}
	var all []Event
	err := s.store.Read(ctx, func(r Reader) error {
		var err error
		all, err = r.Events(ctx, orderID)
		return err
	})
	out := all[:0]
	for _, e := range all {
		if trade.EventVisible(e.Type, a.Role) {
			out = append(out, e)
		}
	}
	return out, err
}

// Messages returns the thread of an order a may see (R23).
func (s *Service) Messages(ctx context.Context, a trade.Actor, orderID string) ([]trade.Message, error) {
	if _, err := s.Order(ctx, a, orderID); err != nil {
		return nil, err
	}
	var out []trade.Message
	err := s.store.Read(ctx, func(r Reader) error {
		var err error
		out, err = r.Messages(ctx, orderID)
		return err
	})
	return out, err
}
