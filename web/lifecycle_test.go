package web

import (
	"fmt"
	"math"
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

// TestLifecycleContrast ensures the lifecycle diagram can be read by people with low vision: its
// lines, arrowheads and outlines have at least 3:1 contrast against the white page (WCAG 1.4.11,
// non-text contrast) and its labels at least 4.5:1 against their box (WCAG 1.4.3), in the colours
// app.css gives them.
func TestLifecycleContrast(t *testing.T) {
	css, err := assets.ReadFile("static/app.css")
	if err != nil {
		t.Fatal(err)
	}
	rules := cssRules(string(css))
	color := func(selector, prop string) string {
		t.Helper()
		v := rules[selector][prop]
		if name, ok := strings.CutPrefix(v, "var("); ok {
			v = rules[":root"][strings.TrimSuffix(name, ")")]
		}
		if len(v) == 4 && v[0] == '#' { // #rgb
			v = string([]byte{'#', v[1], v[1], v[2], v[2], v[3], v[3]})
		}
		if len(v) != 7 || v[0] != '#' {
			t.Fatalf("%s { %s } is %q, not a #rrggbb colour", selector, prop, v)
		}
		return v
	}
	const page = "#ffffff"
	for _, c := range []struct {
		selector, prop string
		against        string // a colour, or "selector|prop" of the box behind
		min            float64
	}{
		{"svg.lifecycle .lc-edge", "stroke", page, 3},
		{"svg.lifecycle .lc-edge.back", "stroke", page, 3},
		{"svg.lifecycle .lc-edge.next", "stroke", page, 3},
		{"svg.lifecycle .lc-arrowhead", "fill", page, 3},
		{"svg.lifecycle .lc-arrowhead.next", "fill", page, 3},
		{"svg.lifecycle .lc-state rect", "stroke", page, 3},
		{"svg.lifecycle .lc-state.next rect", "stroke", page, 3},
		{"svg.lifecycle .lc-state.current rect", "fill", page, 3},
		{"svg.lifecycle .lc-state text", "fill", "svg.lifecycle .lc-state rect|fill", 4.5},
		{"svg.lifecycle .lc-state.current text", "fill", "svg.lifecycle .lc-state.current rect|fill", 4.5},
	} {
		bg := c.against
		if sel, prop, ok := strings.Cut(c.against, "|"); ok {
			bg = color(sel, prop)
		}
		fg := color(c.selector, c.prop)
		if r := contrast(fg, bg); r < c.min {
			t.Errorf("%s { %s: %s } has %.2f:1 against %s, want at least %.1f:1", c.selector, c.prop, fg, r, bg, c.min)
		}
	}
	if r := contrast("#9aa7b4", page); r >= 3 {
		t.Errorf("the check passes the old edge colour (%.2f:1)", r)
	}
}

// cssRules reads a stylesheet's plain top-level rules into selector → property → value; a rule
// with several selectors is stored under each. The rules the test reads are not in media
// queries (whose inner rules this reading mangles).
func cssRules(css string) map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, rule := range strings.Split(css, "}") {
		head, body, ok := strings.Cut(rule, "{")
		if !ok {
			continue
		}
		if i := strings.LastIndex(head, "*/"); i >= 0 {
			head = head[i+2:]
		}
		for _, sel := range strings.Split(head, ",") {
			sel = strings.TrimSpace(sel)
			if out[sel] == nil {
				out[sel] = map[string]string{}
			}
			for _, decl := range strings.Split(body, ";") {
				if k, v, ok := strings.Cut(decl, ":"); ok {
					out[sel][strings.TrimSpace(k)] = strings.TrimSpace(v)
				}
			}
		}
	}
	return out
}

// contrast is the WCAG 2 contrast ratio of two #rrggbb colours.
func contrast(a, b string) float64 {
	lum := func(h string) float64 {
		var l float64
		for i, w := range []float64{0.2126, 0.7152, 0.0722} {
			var c int
			fmt.Sscanf(h[1+2*i:3+2*i], "%02x", &c)
			v := float64(c) / 255
			if v <= 0.03928 {
				v /= 12.92
			} else {
				v = math.Pow((v+0.055)/1.055, 2.4)
			}
			l += w * v
		}
		return l
	}
	la, lb := lum(a), lum(b)
	return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)
}
