package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/ledger"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/payment"
	"github.com/tradeassure/tradeassure/trade"
)

// LedgerLinesMax bounds the accounts the ledger page lists; the totals always cover them all.
const LedgerLinesMax = 1000

// feeMethod is one payment method of the catalog (R9) with its fee rules over time (R10).
type feeMethod struct {
	Info       payment.MethodInfo
	Currencies string
	Caps       string
	Rules      []feeRule
}

// feeRule is one effective-dated fee rule, and whether it is in force, past or future at now.
type feeRule struct {
	From      time.Time
	Status    string // "in force", "past", "future"
	Fee       string
	Tiers     []string
	Collector string
	Source    string
}

func (s *Server) feesPage(w http.ResponseWriter, r *http.Request) {
	sched, now := s.svc.Config().Fees, s.svc.Now()
	var out []feeMethod
	for _, mi := range payment.Catalog() {
		m := feeMethod{Info: mi}
		var curs, caps []string
		for _, c := range mi.Currencies {
			curs = append(curs, string(c))
			if max, ok := mi.MaxMinor[c]; ok {
				caps = append(caps, formatMoney(max, c))
			}
		}
		m.Currencies, m.Caps = strings.Join(curs, ", "), strings.Join(caps, ", ")
		inForce, _ := sched.Rule(mi.Method, now)
		for _, fr := range sched.Rules {
			if fr.Method != mi.Method {
				continue
			}
			row := feeRule{From: fr.EffectiveFrom, Status: "past", Source: fr.Source}
			switch {
			case fr.EffectiveFrom.After(now):
				row.Status = "future"
			case fr.EffectiveFrom.Equal(inForce.EffectiveFrom):
				row.Status = "in force"
			}
			row.Fee, row.Tiers = feeText(fr)
			row.Collector = "Collected by the platform"
			if fr.Collector == payment.CollectedByThirdParty {
				row.Collector = "Charged by others; shown, not collected"
			}
			m.Rules = append(m.Rules, row)
		}
		slices.SortFunc(m.Rules, func(a, b feeRule) int { return a.From.Compare(b.From) })
		out = append(out, m)
	}
	s.render(w, r, http.StatusOK, "admin-fees.html", "Fee schedule", out)
}

// feeText describes a fee rule for people, and its tiers if it has any.
func feeText(fr payment.FeeRule) (string, []string) {
	switch fr.Kind {
	case payment.FeeFree:
		return "Free", nil
	case payment.FeePercent:
		return fr.Rate.String() + " of the amount paid", nil
	case payment.FeeFlat:
		return formatMoney(fr.Flat, fr.Currency) + " per payment", nil
	case payment.FeeEstimate:
		return "Estimated " + formatMoney(fr.EstimateMin, fr.Currency) + "–" + formatMoney(fr.EstimateMax, fr.Currency), nil
	case payment.FeeTiered:
		var tiers []string
		below := int64(0)
		for _, t := range fr.Tiers {
			band := "up to " + formatMoney(t.UpTo, fr.Currency)
			if t.UpTo == 0 {
				band = "above " + formatMoney(below, fr.Currency)
			}
			line := band + ": " + formatMoney(t.Fee, fr.Currency)
			if t.Assumed {
				line += " (assumed, to be confirmed)"
			}
			tiers = append(tiers, line)
			below = t.UpTo
		}
		return "Tiered by amount", tiers
	}
	return string(fr.Kind), nil
}

// ledgerLine is one account of the trial balance.
type ledgerLine struct {
	Account  string
	Kind     string
	Owner    string
	Link     string // the order or supplier the account belongs to
	Currency money.Currency
	Balance  int64 // in the kind's natural sign
	Debit    int64
	Credit   int64
}

type ledgerData struct {
	Lines   []ledgerLine
	Hidden  int
	Totals  []escrow.CurrencyTotal
	Checked bool
	Report  escrow.CheckReport
}

// ledgerPage shows the balance of every account and the trial balance per currency (debits
// equal credits). With check=1 it runs the ledger check (the same use case as `tradeassure
// ledger check` and GET /v1/ledger/check) and shows its trial balance and any violation.
func (s *Server) ledgerPage(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	var d ledgerData
	var lines []escrow.AccountBalance
	if r.URL.Query().Get("check") == "1" {
		rep, err := s.svc.CheckLedger(ctx)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		d.Checked, d.Report, lines = true, rep, rep.Trial
	} else {
		var err error
		if lines, err = s.svc.Balances(ctx, a); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	d.Totals = escrow.TrialTotals(lines)
	if len(lines) > LedgerLinesMax {
		d.Hidden, lines = len(lines)-LedgerLinesMax, lines[:LedgerLinesMax]
	}
	for _, b := range lines {
		acc, err := ledger.ParseAccountID(b.Account)
		if err != nil {
			continue // CheckLedger reports it as a violation
		}
		l := ledgerLine{Account: b.Account, Kind: capitalize(strings.ReplaceAll(string(acc.Kind), "_", " ")),
			Owner: acc.Owner, Currency: acc.Currency, Balance: b.Balance}
		if sg := b.Signed(); sg > 0 {
			l.Debit = sg
		} else {
			l.Credit = -sg
		}
		switch acc.Kind {
		case ledger.Escrow:
			l.Link = "/orders/" + acc.Owner
		case ledger.SupplierPayable, ledger.SupplierReceivable:
			l.Link = "/admin/suppliers/" + acc.Owner
		}
		d.Lines = append(d.Lines, l)
	}
	s.render(w, r, http.StatusOK, "admin-ledger.html", "Ledger", d)
}

// pendingPayment is a payment an order waits for: where suspense money may go (R8).
type pendingPayment struct {
	Value    string // "orderID/paymentID"
	Label    string
	Currency money.Currency
}

type suspenseRow struct {
	Item    escrow.SuspenseItem
	Form    *form
	Choices []pendingPayment
}

type suspenseData struct {
	Open      []suspenseRow
	Allocated []escrow.SuspenseItem
}

func (s *Server) suspensePage(w http.ResponseWriter, r *http.Request) {
	s.showSuspense(w, r, http.StatusOK, "", nil)
}

// showSuspense lists open suspense items, each with a form to allocate it to a payment an
// order is waiting for, and the items already allocated. failed is the refused form of item id.
func (s *Server) showSuspense(w http.ResponseWriter, r *http.Request, status int, id string, failed *form) {
	ctx, a := r.Context(), actorOf(r)
	open, err := s.svc.Suspense(ctx, a, escrow.SuspenseOpen)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	done, err := s.svc.Suspense(ctx, a, escrow.SuspenseAllocated)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pending, err := s.pendingPayments(ctx, a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := suspenseData{Allocated: done}
	slices.Reverse(d.Allocated) // newest first
	for _, it := range open {
		row := suspenseRow{Item: it, Form: newForm(nil)}
		if it.ID == id && failed != nil {
			row.Form = failed
		}
		for _, p := range pending {
			if p.Currency == it.Amount.Currency {
				row.Choices = append(row.Choices, p)
			}
		}
		d.Open = append(d.Open, row)
	}
	s.render(w, r, status, "admin-suspense.html", "Suspense", d)
}

// pendingPayments lists the payments orders are waiting for, oldest order first.
func (s *Server) pendingPayments(ctx context.Context, a trade.Actor) ([]pendingPayment, error) {
	var out []pendingPayment
	f := escrow.OrderFilter{}
	for page := 0; page < 20; page++ { // at most 20 pages of PageSizeMax, as the dashboards
		os, err := s.svc.Orders(ctx, a, f)
		if err != nil {
			return nil, err
		}
		for _, o := range os {
			for _, p := range o.Payments {
				if p.Status == trade.PaymentPending {
					out = append(out, pendingPayment{Value: o.ID + "/" + p.ID, Currency: o.Currency,
						Label: "#" + shortID(o.ID) + " " + s.orgName(ctx, o.BuyerID) + ": " + string(p.Installment) +
							" payment " + formatMoney(p.Total, o.Currency) + " by " + methodName(p.Method) + ", ref " + p.Reference})
				}
			}
		}
		if len(os) < escrow.PageSizeMax {
			break
		}
		f.After = os[len(os)-1].ID
	}
	return out, nil
}

// allocateSuspense applies money held in suspense to the payment an order waits for (R8).
func (s *Server) allocateSuspense(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	id := r.PathValue("id")
	f := newForm(url.Values{"payment": {r.PostForm.Get("payment")}})
	key, ok := idempotencyKey(r, f)
	orderID, paymentID, found := strings.Cut(f.Value("payment"), "/")
	if !found || orderID == "" || paymentID == "" {
		f.add("payment", "Choose the payment this money is for.")
	}
	if ok && !f.Failed() {
		al, err := s.svc.AllocateSuspense(r.Context(), actorOf(r), key, id, orderID, paymentID)
		if err == nil {
			s.redirect(w, r, "/admin/suspense", "Allocated to order #"+shortID(al.OrderID)+".")
			return
		}
		e, isFault := fault.As(err)
		if !isFault || e.Code == fault.Internal {
			s.fail(w, r, err)
			return
		}
		f.add("payment", sentence(e.Message)) // whatever refused it, the choice of payment is what to change
	}
	s.showSuspense(w, r, http.StatusUnprocessableEntity, id, f.rekey())
}
