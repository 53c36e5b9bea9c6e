package web_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/payment"
	"github.com/tradeassure/tradeassure/trade"
)

// dashboardRowRE finds each order of a dashboard and its Next deadline cell.
var dashboardRowRE = regexp.MustCompile(`(?s)<td data-label="Order"><a href="/orders/(ord_[0-9a-f]+)(?:/case)?">.*?<td data-label="Next deadline">(.*?)</td>`)

// dashboardDeadlineRE reads a Next deadline cell: what, when (the <time datetime>), countdown.
var dashboardDeadlineRE = regexp.MustCompile(`^(.*?)<br><time datetime="([^"]+)"(?: class="late")?>([^<]*)</time>$`)

// orderDeadlineRE reads the first deadline of the order page's list.
var orderDeadlineRE = regexp.MustCompile(`<li class="deadline-[^"]*"><strong>(.*?)</strong>: <time datetime="([^"]+)" class="countdown">([^<]*)</time>`)

// TestDashboardDeadlines ensures every dashboard's Next deadline is the first deadline the
// order's page lists — the order's stored timers under the same rule (R21) — for each order and
// each role that lists it: the shipping date (R2), the expiry of payment instructions, the
// supplier's time to settle a dispute (R17), the buyer's time to dispute after release; an
// inspection company sees the shipping date where the parties see a payment; an escalated
// dispute's window no longer counts, and an order without a confirmed contract has no timer
// yet. Then the clock passes them all: before the worker acts, both say they
// passed; once it has, both show what is left.
func TestDashboardDeadlines(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, w *world) {
		proposed := w.order(trade.ContractProposed)
		paying := w.order(trade.Confirmed)
		_, err := w.svc.Do(w.ctx, w.actors["buyer"], w.key(), paying.ID, trade.Pay{Installment: trade.Initial, Method: payment.TTWire})
		w.must("pay", err)
		disputed := w.order(trade.Disputed)
		escalated := w.order(trade.Escalated)
		released := w.released()

		roles := []string{"buyer", "supplier", "inspector", "arbiter", "admin"}
		next := dashboardsAgree(t, w, roles)
		for id, want := range map[string]string{
			"buyer " + proposed.ID:     "—", // no shipping timer before the contract is confirmed
			"buyer " + paying.ID:       "Payment instructions for the initial payment expire",
			"inspector " + paying.ID:   "Shipping date",
			"supplier " + disputed.ID:  "The supplier&#39;s time to settle the dispute ends (R17)",
			"inspector " + disputed.ID: "Shipping date",
			"arbiter " + escalated.ID:  "Shipping date", // the dispute's window no longer runs
			"buyer " + released.ID:     "The buyer&#39;s time to dispute after release ends",
			"inspector " + released.ID: "—",
		} {
			if got, ok := next[id]; !ok || !strings.HasPrefix(got, want) {
				t.Errorf("%s: Next deadline %q, want %q", id, got, want)
			}
		}

		w.clock.Advance(61 * 24 * time.Hour) // past the shipping dates and every other deadline
		next = dashboardsAgree(t, w, roles)
		if got := next["inspector "+paying.ID]; !strings.Contains(got, "passed") {
			t.Errorf("a passed shipping date on the dashboard: %q", got)
		}
		w.timers()
		dashboardsAgree(t, w, roles)
	})
}

// dashboardsAgree checks, for each role's dashboard, that each order's Next deadline is the
// first deadline of the order page the role sees (or "—" when it lists none), and returns the
// cells by "role orderID".
func dashboardsAgree(t *testing.T, w *world, roles []string) map[string]string {
	t.Helper()
	cells := map[string]string{}
	for _, role := range roles {
		c := w.login(role)
		rows := dashboardRowRE.FindAllStringSubmatch(c.get("/").body, -1)
		if role != "admin" && len(rows) == 0 {
			t.Fatalf("%s's dashboard lists no orders", role)
		}
		for _, row := range rows {
			id, cell := row[1], strings.TrimSpace(row[2])
			cells[role+" "+id] = cell
			page := c.get("/orders/" + id).body
			want := "—"
			if m := orderDeadlineRE.FindStringSubmatch(page); m != nil {
				want = m[1] + "|" + m[2] + "|" + m[3]
			}
			got := cell
			if m := dashboardDeadlineRE.FindStringSubmatch(cell); m != nil {
				got = m[1] + "|" + m[2] + "|" + m[3]
			}
			if got != want {
				t.Errorf("%s's dashboard shows for %s the deadline\n  %s\nand the order page\n  %s", role, id, got, want)
			}
		}
	}
	return cells
}
