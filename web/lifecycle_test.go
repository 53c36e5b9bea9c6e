package web

import (
	"strings"
	"testing"

	"github.com/tradeassure/tradeassure/trade"
)

// TestLifecycleLayout ensures the diagram is laid out from the lifecycle table: every state once,
// draft first and completed last, every forward transition pointing right, and every
// transition of the table drawn.
func TestLifecycleLayout(t *testing.T) {
	l := layoutLifecycle()
	if len(l.nodes) != len(trade.States) {
		t.Fatalf("%d nodes for %d states", len(l.nodes), len(trade.States))
	}
	if l.nodes[trade.Draft].col != 0 || l.nodes[trade.Completed].col != l.cols-1 {
		t.Errorf("draft in column %d, completed in %d of %d", l.nodes[trade.Draft].col, l.nodes[trade.Completed].col, l.cols)
	}
	order := map[trade.State]int{}
	for i, s := range trade.States {
		order[s] = i
	}
	pairs := map[lcEdge]bool{}
	for _, tr := range trade.Table {
		for _, to := range tr.To {
			if to != tr.From {
				pairs[lcEdge{tr.From, to}] = true
			}
		}
	}
	if len(l.edges) != len(pairs) {
		t.Errorf("%d edges drawn, the table has %d transitions between states", len(l.edges), len(pairs))
	}
	for _, e := range l.edges {
		if order[e.to] > order[e.from] && l.nodes[e.to].col <= l.nodes[e.from].col {
			t.Errorf("forward edge %s→%s does not point right", e.from, e.to)
		}
	}
	// No two boxes overlap.
	seen := map[[2]float64]trade.State{}
	for s, n := range l.nodes {
		k := [2]float64{n.x(), n.top()}
		if other, ok := seen[k]; ok {
			t.Errorf("%s and %s share a position", s, other)
		}
		seen[k] = s
	}
}

// TestLifecycleSVG ensures the drawing is deterministic, highlights exactly the current state,
// and marks the states the table lets the order move to next.
func TestLifecycleSVG(t *testing.T) {
	for _, s := range trade.States {
		a, b := lifecycleSVG(s), lifecycleSVG(s)
		if a != b {
			t.Fatalf("%s: two drawings differ", s)
		}
		svg := string(a)
		if n := strings.Count(svg, `class="lc-state current`); n != 1 {
			t.Errorf("%s: %d current states", s, n)
		}
		if !strings.Contains(svg, `data-state="`+string(s)+`" aria-current="step"`) {
			t.Errorf("%s: not the one marked current", s)
		}
		for _, other := range trade.States {
			if strings.Count(svg, `data-state="`+string(other)+`"`) != 1 {
				t.Errorf("%s: state %s drawn %d times", s, other, strings.Count(svg, `data-state="`+string(other)+`"`))
			}
		}
	}
	svg := string(lifecycleSVG(trade.Confirmed))
	for _, next := range []trade.State{trade.InProduction, trade.Cancelled} {
		class := "lc-state next"
		if next.Terminal() {
			class += " terminal"
		}
		if !strings.Contains(svg, `class="`+class+`" data-state="`+string(next)+`"`) {
			t.Errorf("confirmed: %s not marked next", next)
		}
	}
	if strings.Count(svg, `class="lc-state next`) != 2 {
		t.Error("confirmed: states other than its successors are marked next")
	}
	if !strings.Contains(svg, "It can move to: In production, Cancelled.") {
		t.Error("the description does not say where the order can go")
	}
}
