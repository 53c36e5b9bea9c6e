package web

import (
	"fmt"
	"html/template"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/payment"
	"github.com/tradeassure/tradeassure/trade"
)

// funcs are the template functions: formatting only, no decisions.
var funcs = template.FuncMap{
	"money":     formatMoney,
	"amount":    func(a money.Amount) string { return formatMoney(a.Minor, a.Currency) },
	"decimal":   formatDecimal,
	"date":      func(t time.Time) string { return t.UTC().Format("2 Jan 2006") },
	"datetime":  func(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04 UTC") },
	"isodate":   func(t time.Time) string { return t.UTC().Format(time.DateOnly) },
	"iso":       func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"until":     until,
	"state":     stateLabel,
	"words":     func(s string) string { return capitalize(strings.ReplaceAll(s, "_", " ")) },
	"method":    methodName,
	"event":     eventLabel,
	"short":     shortID,
	"percent":   func(part, whole int64) string { return percent(part, whole) },
	"field":     newField,
	"indexed":   indexed,
	"seq":       seq,
	"inc":       func(i int) int { return i + 1 },
	"first":     firstRow,
	"reqTable":  func(title string, items []trade.Requirement) reqTable { return reqTable{title, items} },
	"formRow":   func(f *form, list string, i int, label string) formRow { return formRow{f, list, i, label} },
	"bp":        bpLabel,
	"lower":     strings.ToLower,
	"stateAttr": func(s trade.State) string { return string(s) },
	"outcome":   outcomeLabel,
}

// outcomeText names the arbiter's decisions (trade.Outcome) in the domain's verbs: a refund to
// the buyer, or none — and then the escrow goes on to its release to the supplier (R18, R20).
var outcomeText = map[trade.Outcome]string{
	trade.OutcomeFullRefund:    "Full refund to the buyer",
	trade.OutcomePartialRefund: "Partial refund to the buyer",
	trade.OutcomeNoRefund:      "No refund: release to the supplier",
}

func outcomeLabel(o string) string {
	if s, ok := outcomeText[trade.Outcome(o)]; ok {
		return s
	}
	return capitalize(strings.ReplaceAll(o, "_", " "))
}

// formatMoney shows minor units as "USD 12,345.67": the currency's own digits, thousands
// grouped for reading.
func formatMoney(minor int64, c money.Currency) string {
	if !c.Valid() {
		return strconv.FormatInt(minor, 10)
	}
	return money.New(minor, c).Display()
}

// formatDecimal shows minor units as a plain decimal a form input can read back ("12345.67").
func formatDecimal(minor int64, c money.Currency) string {
	if !c.Valid() {
		return ""
	}
	return money.New(minor, c).Decimal()
}

// reqTable is a titled list of a contract's requirements.
type reqTable struct {
	Title string
	Items []trade.Requirement
}

// formRow is one row of a repeated group in a contract form (a line item, a requirement).
type formRow struct {
	Form  *form
	List  string
	Index int
	Label string
}

// methodName is a payment method's name for people: "Credit or debit card".
func methodName(m payment.Method) string {
	if mi, err := payment.Info(m); err == nil {
		return mi.Name
	}
	return string(m)
}

// firstRow is s on a form's first row and nothing on the others: a hint shown once.
func firstRow(i int, s string) string {
	if i == 0 {
		return s
	}
	return ""
}

// seq is 0, 1, …, n-1: the rows of a form.
func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// bpLabel shows basis points as a percentage: 3000 → "30%", 2550 → "25.5%".
func bpLabel(bp int) string {
	if bp%100 == 0 {
		return strconv.Itoa(bp/100) + "%"
	}
	return strings.TrimRight(fmt.Sprintf("%d.%02d", bp/100, bp%100), "0") + "%"
}

func percent(part, whole int64) string {
	if whole <= 0 {
		return "0%"
	}
	// Whole percent, rounded down, so "100%" appears only when everything is covered.
	return strconv.FormatInt(part*100/whole, 10) + "%"
}

// until says how far t is from now, for people: "in 3 days", "2 hours ago".
func until(now, t time.Time) string {
	d := t.Sub(now)
	past := d < 0
	if past {
		d = -d
	}
	var s string
	switch {
	case d < time.Minute:
		return "now"
	case d < time.Hour:
		s = plural(int64(d/time.Minute), "minute")
	case d < 48*time.Hour:
		s = plural(int64(d/time.Hour), "hour")
	default:
		s = plural(int64(d/(24*time.Hour)), "day")
	}
	if past {
		return s + " ago"
	}
	return "in " + s
}

func plural(n int64, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.FormatInt(n, 10) + " " + unit + "s"
}

// stateLabel names a state for people: "inspection_passed" → "Inspection passed".
func stateLabel(s trade.State) string { return capitalize(strings.ReplaceAll(string(s), "_", " ")) }

// capitalize upper-cases the first letter (ASCII: every label here is).
func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// eventLabels name the audit events for people; an unknown type is shown as it is.
var eventLabels = map[string]string{
	"order.placed":                  "Order placed",
	"contract.proposed":             "Contract proposed",
	"contract.confirmed":            "Contract confirmed",
	"amendment.proposed":            "Amendment proposed",
	"amendment.confirmed":           "Amendment confirmed",
	"inspection.booked":             "Inspection booked",
	"inspection.passed":             "Inspection passed",
	"inspection.failed":             "Inspection failed",
	"payment.initiated":             "Payment instructions issued",
	"payment.received":              "Payment received",
	"payment.returned":              "Payment returned to the buyer",
	"payment.expired":               "Payment instructions expired",
	"goods.accepted":                "Goods accepted as they are",
	"dispute.filed":                 "Dispute filed",
	"dispute.resolution_proposed":   "Settlement offered",
	"dispute.resolution_accepted":   "Settlement accepted",
	"dispute.resolution_rejected":   "Settlement rejected",
	"dispute.escalated":             "Dispute escalated to the platform",
	"dispute.decided":               "Arbiter's decision",
	"order.shipped":                 "Shipped",
	"funds.released":                "Funds released to the supplier",
	"funds.released_for_production": "Initial payment released for production",
	"guarantee.paid":                "Refund paid from the guarantee fund",
	"order.completed":               "Order completed",
	"order.late":                    "Shipping date passed unshipped",
	"order.refunded":                "Refunded",
	"order.cancelled":               "Cancelled",
	"message.posted":                "Message posted",
}

func eventLabel(typ string) string {
	if l, ok := eventLabels[typ]; ok {
		return l
	}
	return typ
}

// shortID is the part of an ID people can compare at a glance: its last 8 characters, which
// are random in a UUIDv7.
func shortID(id string) string {
	if len(id) <= 8 {
		return id
	}
	return id[len(id)-8:]
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// parsePages parses each page template with the layout and the shared partials.
func parsePages() map[string]*template.Template {
	names, err := fs.Glob(assets, "templates/*.html")
	if err != nil {
		panic(err)
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		base := n[len("templates/"):]
		if base == "layout.html" || base == "partials.html" {
			continue
		}
		pages[base] = template.Must(template.New(base).Funcs(funcs).ParseFS(assets,
			"templates/layout.html", "templates/partials.html", n))
	}
	return pages
}
