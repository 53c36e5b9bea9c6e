package web

import (
	"fmt"
	"html/template"
	"slices"
	"strings"

	"github.com/tradeassure/tradeassure/trade"
)

// The lifecycle diagram is laid out once from trade.Table, deterministically: a state's column
// is the longest path to it from draft over the table's forward edges (an edge is forward when
// it goes to a state later in trade.States, the lifecycle order); within a column states sit at
// the mean height of their forward predecessors, ties in lifecycle order; columns are centred.
// Edges that go back (an amendment, a settlement, a dispute after release) are drawn dashed.

// Diagram geometry, in SVG user units.
const (
	lcBoxW   = 104
	lcBoxH   = 40
	lcColGap = 28
	lcRowGap = 22
	lcMargin = 10
)

type lcNode struct {
	state trade.State
	col   int
	y     float64 // row position, in rows, after centring
}

type lcEdge struct{ from, to trade.State }

type lcLayout struct {
	nodes  map[trade.State]*lcNode
	edges  []lcEdge // distinct (from, to) pairs with from ≠ to, in table order
	cols   int
	rows   int
	width  int
	height int
}

var lifecycle = layoutLifecycle()

func layoutLifecycle() *lcLayout {
	order := map[trade.State]int{}
	for i, s := range trade.States {
		order[s] = i
	}
	l := &lcLayout{nodes: map[trade.State]*lcNode{}}
	seen := map[lcEdge]bool{}
	for _, t := range trade.Table {
		for _, to := range t.To {
			e := lcEdge{t.From, to}
			if to != t.From && !seen[e] {
				seen[e] = true
				l.edges = append(l.edges, e)
			}
		}
	}
	forward := func(e lcEdge) bool { return order[e.to] > order[e.from] }
	// Longest path over forward edges: States is a topological order of them.
	col := map[trade.State]int{}
	for _, s := range trade.States {
		for _, e := range l.edges {
			if e.to == s && forward(e) {
				col[s] = max(col[s], col[e.from]+1)
			}
		}
		l.cols = max(l.cols, col[s]+1)
	}
	byCol := make([][]trade.State, l.cols)
	for _, s := range trade.States {
		byCol[col[s]] = append(byCol[col[s]], s)
	}
	for _, c := range byCol {
		l.rows = max(l.rows, len(c))
	}
	for c, states := range byCol {
		bary := map[trade.State]float64{}
		for _, s := range states {
			sum, n := 0.0, 0
			for _, e := range l.edges {
				if e.to == s && forward(e) {
					sum += l.nodes[e.from].y
					n++
				}
			}
			if n > 0 {
				bary[s] = sum / float64(n)
			}
		}
		slices.SortStableFunc(states, func(a, b trade.State) int {
			if bary[a] != bary[b] {
				if bary[a] < bary[b] {
					return -1
				}
				return 1
			}
			return order[a] - order[b]
		})
		offset := float64(l.rows-len(states)) / 2
		for k, s := range states {
			l.nodes[s] = &lcNode{state: s, col: c, y: float64(k) + offset}
		}
	}
	l.width = 2*lcMargin + l.cols*lcBoxW + (l.cols-1)*lcColGap
	l.height = 2*lcMargin + l.rows*lcBoxH + (l.rows-1)*lcRowGap
	return l
}

func (n *lcNode) x() float64   { return lcMargin + float64(n.col*(lcBoxW+lcColGap)) }
func (n *lcNode) top() float64 { return lcMargin + n.y*(lcBoxH+lcRowGap) }

// lifecycleSVG draws the lifecycle with current highlighted and the states it can move to
// next marked. The output depends only on its arguments.
func lifecycleSVG(current trade.State) template.HTML {
	l := lifecycle
	next := map[trade.State]bool{}
	for _, e := range l.edges {
		if e.from == current {
			next[e.to] = true
		}
	}
	var b strings.Builder
	var nextNames []string
	for _, s := range trade.States {
		if next[s] {
			nextNames = append(nextNames, stateLabel(s))
		}
	}
	desc := "Current state: " + stateLabel(current) + "."
	if len(nextNames) > 0 {
		desc += " It can move to: " + strings.Join(nextNames, ", ") + "."
	}
	fmt.Fprintf(&b, `<svg class="lifecycle" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-labelledby="lc-title lc-desc" xmlns="http://www.w3.org/2000/svg">`,
		l.width, l.height, l.width, l.height)
	fmt.Fprintf(&b, `<title id="lc-title">Order lifecycle</title><desc id="lc-desc">%s</desc>`, template.HTMLEscapeString(desc))
	b.WriteString(`<defs>` + marker("lc-arrow", "lc-arrowhead") + marker("lc-arrow-next", "lc-arrowhead next") + `</defs>`)
	// Edges first, so that boxes cover the lines that pass behind them.
	for _, e := range l.edges {
		writeEdge(&b, l, e, e.from == current)
	}
	for _, s := range trade.States {
		writeNode(&b, l.nodes[s], s == current, next[s])
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func marker(id, class string) string {
	return `<marker id="` + id + `" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">` +
		`<path class="` + class + `" d="M0,0 L10,5 L0,10 z"/></marker>`
}

func writeEdge(b *strings.Builder, l *lcLayout, e lcEdge, fromCurrent bool) {
	a, z := l.nodes[e.from], l.nodes[e.to]
	class, arrow := "lc-edge", "lc-arrow"
	if fromCurrent {
		class, arrow = "lc-edge next", "lc-arrow-next"
	}
	var d string
	if z.col > a.col {
		// Forward: right side of the source to the left side of the target.
		x1, y1 := a.x()+lcBoxW, a.top()+lcBoxH/2
		x2, y2 := z.x(), z.top()+lcBoxH/2
		dx := (x2 - x1) / 2
		d = fmt.Sprintf("M%.1f,%.1f C%.1f,%.1f %.1f,%.1f %.1f,%.1f", x1, y1, x1+dx, y1, x2-dx, y2, x2, y2)
	} else {
		// Back (or within a column): bottom of the source, looping below, to the bottom of the target.
		class += " back"
		x1, y1 := a.x()+lcBoxW*0.6, a.top()+lcBoxH
		x2, y2 := z.x()+lcBoxW*0.4, z.top()+lcBoxH
		sag := float64(lcRowGap) * 0.8
		if a.col == z.col {
			x1, x2 = a.x()+lcBoxW, z.x()+lcBoxW
			y1, y2 = a.top()+lcBoxH/2, z.top()+lcBoxH/2
			d = fmt.Sprintf("M%.1f,%.1f C%.1f,%.1f %.1f,%.1f %.1f,%.1f", x1, y1, x1+lcColGap*0.8, y1, x2+lcColGap*0.8, y2, x2, y2)
		} else {
			low := max(y1, y2) + sag
			d = fmt.Sprintf("M%.1f,%.1f C%.1f,%.1f %.1f,%.1f %.1f,%.1f", x1, y1, x1, low, x2, low, x2, y2)
		}
	}
	fmt.Fprintf(b, `<path class="%s" d="%s" marker-end="url(#%s)"/>`, class, d, arrow)
}

func writeNode(b *strings.Builder, n *lcNode, current, next bool) {
	class := "lc-state"
	switch {
	case current:
		class += " current"
	case next:
		class += " next"
	}
	if n.state.Terminal() {
		class += " terminal"
	}
	aria := ""
	if current {
		aria = ` aria-current="step"`
	}
	fmt.Fprintf(b, `<g class="%s" data-state="%s"%s><rect x="%.1f" y="%.1f" width="%d" height="%d" rx="6"/>`,
		class, n.state, aria, n.x(), n.top(), lcBoxW, lcBoxH)
	lines := labelLines(stateLabel(n.state))
	cx := n.x() + lcBoxW/2
	cy := n.top() + lcBoxH/2
	for i, line := range lines {
		// One line sits on the middle; two lines sit either side of it.
		dy := 4.0
		if len(lines) == 2 {
			dy = -2.0 + float64(i)*13
		}
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, cx, cy+dy, template.HTMLEscapeString(line))
	}
	b.WriteString(`</g>`)
}

// labelLines breaks a label longer than a box holds into two lines at its last space.
func labelLines(s string) []string {
	const fits = 13 // characters at the diagram's font size
	if len(s) <= fits {
		return []string{s}
	}
	if i := strings.LastIndex(s, " "); i > 0 {
		return []string{s[:i], s[i+1:]}
	}
	return []string{s}
}
