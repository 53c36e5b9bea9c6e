package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/tradeassure/tradeassure/trade"
)

// TestBrowserDispute drives a quality dispute through the portal in Chromium, each person in a
// browser context of their own, on SQLite and PostgreSQL. The order starts paid and in
// production with an inspection booked (the world's seed helper); from there every step is a
// click: the inspector rejects the batch with a finding per requirement, and the buyer sees the
// verdict and its discrepancies (R16); the buyer files a dispute naming the failed requirement
// (R17); the supplier offers a partial refund, the buyer rejects it and asks the platform to
// decide (R17); the arbiter opens the case file from the queue, sees the contract's requirement
// beside the failing finding and the R19 grounds (none apply), is refused a decision without
// reasons, then decides a full refund with written reasons (R18); the buyer's order page shows
// the refund. Both pages fit a phone's width (R24).
func TestBrowserDispute(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { disputeJourney(t, newWorld(t, sqliteURL(t))) })
	t.Run("postgres", func(t *testing.T) { disputeJourney(t, newWorld(t, postgresURL(t))) })
}

func disputeJourney(t *testing.T, w *world) {
	o := w.order(trade.InProduction)
	path := "/orders/" + o.ID
	ctx := browser(t)
	inspector, buyer, supplier, arbiter := w.person(ctx, "inspector"), w.person(ctx, "buyer"), w.person(ctx, "supplier"), w.person(ctx, "arbiter")

	// R16: the inspector rejects the batch: the fabric is too light, the zipper is as agreed.
	inspector.login()
	inspector.open(path)
	inspector.has("sampling plan before the report", "lot of 2000 units")
	inspector.do("fill a failing report",
		chromedp.Click(chromedp.ID("f-result-fail")),
		chromedp.SendKeys(chromedp.ID("f-sample_size"), "125"),
		chromedp.SendKeys(chromedp.ID("f-major"), "9"),
		chromedp.SendKeys(chromedp.ID("f-findings-0--measured"), "168 g/m²"),
		chromedp.SendKeys(chromedp.ID("f-findings-1--measured"), "YKK"),
		chromedp.Click(chromedp.ID("f-findings-1--pass")),
		chromedp.SendKeys(chromedp.ID("f-summary"), "Fabric weight well under the contract."),
	)
	inspector.submit("report", "Inspection report submitted.")
	inspector.stateIs(trade.InspectionFailed)

	// The buyer sees the verdict with every discrepancy, and files a dispute on the fabric (R17).
	buyer.login()
	buyer.open(path)
	buyer.stateIs(trade.InspectionFailed)
	buyer.has("verdict", "The platform's verdict against the contract: rejected", "Why the batch is not accepted",
		"at most 7 major defective units in 125 units (AQL 2.5)", "Fabric weight: the contract requires 200 g/m² ± 5% (ISO 3801); the inspector found 168 g/m².")
	buyer.do("fill the dispute",
		chromedp.SendKeys(chromedp.ID("f-reason"), "The fabric weighs 168 g/m², the contract says 200 ± 5%."),
		chromedp.Click(chromedp.ID("f-req-0")),
	)
	buyer.submit("file-dispute", "Dispute filed.")
	buyer.stateIs(trade.Disputed)

	// The supplier offers a price reduction; the buyer rejects it and escalates (R17).
	supplier.login()
	supplier.open(path)
	supplier.do("offer a partial refund",
		chromedp.SetValue(chromedp.ID("f-kind"), "partial_refund"),
		chromedp.SendKeys(chromedp.ID("f-amount"), "500.00"),
		chromedp.SendKeys(chromedp.CSS("#action-propose-resolution textarea[name=note]"), "A 5% discount on the order."),
	)
	supplier.submit("propose-resolution", "Settlement offered to the buyer.")

	buyer.open(path)
	buyer.has("the offer", "Partial refund of USD 500.00", "A 5% discount on the order.")
	buyer.do("say why", chromedp.SendKeys(chromedp.CSS("#action-reject-resolution textarea[name=note]"), "16% light fabric is not worth 5%."))
	buyer.submit("reject-resolution", "Settlement rejected.")
	buyer.do("ask the platform", chromedp.SendKeys(chromedp.CSS("#action-escalate textarea[name=note]"), "We cannot agree."))
	buyer.submit("escalate", "The dispute goes to the platform's arbiter.")
	buyer.stateIs(trade.Escalated)

	// R18: the arbiter opens the case file from the queue and compares contract and report.
	casePath := path + "/case"
	arbiter.login()
	arbiter.has("queue", "Escalated disputes")
	arbiter.do("open the case file",
		chromedp.Click(chromedp.CSS(`main a[href="`+casePath+`"]`)),
		waitText("Contract beside the inspection report"),
	)
	row := run(arbiter, "the fabric weight row", chromedp.Evaluate[string](
		`[...document.querySelectorAll("table.compare tbody tr")].find(r => r.querySelector("th").innerText.startsWith("Fabric weight")).innerText`))
	for _, s := range []string{"200 g/m² ± 5% (ISO 3801)", "168 g/m²", "fails", "disputed"} {
		if !strings.Contains(row, s) {
			t.Errorf("the fabric weight row %q lacks %q", row, s)
		}
	}
	arbiter.has("case file", "Partial refund of USD 500.00", "Rejected", "16% light fabric is not worth 5%.",
		"We cannot agree.", "No R19 ground applies", "Major", "over the limit")

	// A decision without reasons is refused, and the case file shows it next to the field.
	arbiter.do("decide without reasons",
		chromedp.Click(chromedp.ID("f-outcome-full")),
		chromedp.Click(chromedp.CSS("#action-decide button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("f-reasons-error")),
	)
	arbiter.has("refused decision", "Case file", "Contract beside the inspection report")
	if !run(arbiter, "outcome kept", chromedp.Evaluate[bool](`document.getElementById("f-outcome-full").checked`)) {
		t.Error("the outcome chosen was not kept")
	}
	arbiter.do("write the reasons", chromedp.SendKeys(chromedp.ID("f-reasons"),
		"The contract requires fabric of 200 g/m² ± 5%; the inspection measured 168 g/m² and 9 major defects over Ac 7. The supplier failed to comply."))
	arbiter.submit("decide", "Decision recorded.")
	arbiter.stateIs(trade.Refunded)

	// The buyer sees the outcome and the money refunded.
	buyer.open(path)
	buyer.stateIs(trade.Refunded)
	buyer.has("refund", "Full refund to the buyer", "The supplier failed to comply.", "refunded USD 3,480.00", "Arbiter's decision")

	// R24: the order page with its quality tables, and the case file, fit a phone's width.
	for _, pg := range []struct {
		who  *person
		path string
	}{{buyer, path}, {arbiter, casePath}} {
		pg.who.resize(phone)
		pg.who.open(pg.path) // checks the page at this width
	}
}
