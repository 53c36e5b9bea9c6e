package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"time"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/ledger"
	"github.com/tradeassure/tradeassure/trade"
)

// auditRow is one event of an order's hash-chained audit log.
type auditRow struct {
	Seq      int64
	At       time.Time
	Who      string
	Type     string
	Label    string
	Hash     string
	PrevHash string
	// HashShort and PrevShort are the first 12 hex digits, which people compare at a glance.
	HashShort string
	PrevShort string
	Payload   string // indented JSON
}

type auditData struct {
	O      *trade.Order
	Events []auditRow
	Breaks []ledger.Violation
}

// auditPage lists every event of an order, oldest first, with its place in the hash chain, and
// verifies the chain the way the ledger check does (escrow.VerifyChain).
func (s *Server) auditPage(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	o, err := s.svc.Order(ctx, a, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	evs, err := s.svc.Events(ctx, a, o.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := auditData{O: o, Breaks: escrow.VerifyChain(o.ID, evs)}
	for _, e := range evs {
		who := roleLabel(e.Actor)
		if e.Actor.Role != trade.RoleSystem && e.Actor.OrgID != "" {
			who += " at " + s.orgName(ctx, e.Actor.OrgID)
		}
		var pretty bytes.Buffer
		if json.Indent(&pretty, e.Payload, "", "  ") != nil {
			pretty.Reset()
			pretty.Write(e.Payload)
		}
		d.Events = append(d.Events, auditRow{Seq: e.Seq, At: e.At, Who: who, Type: e.Type, Label: eventLabel(e.Type),
			Hash: e.Hash, PrevHash: e.PrevHash, HashShort: prefix(e.Hash, 12), PrevShort: prefix(e.PrevHash, 12),
			Payload: pretty.String()})
	}
	s.render(w, r, http.StatusOK, "admin-audit.html", "Audit log of order "+shortID(o.ID), d)
}

func prefix(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
