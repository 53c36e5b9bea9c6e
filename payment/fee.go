package payment

import (
	"fmt"
	"sort"
	"time"

	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/money"
)

// FeeKind is the shape of a fee formula.
type FeeKind string

const (
	FeeFree     FeeKind = "free"     // no fee
	FeePercent  FeeKind = "percent"  // Rate × amount, half-up
	FeeFlat     FeeKind = "flat"     // a fixed amount per payment
	FeeTiered   FeeKind = "tiered"   // the fee of the first tier whose UpTo covers the amount
	FeeEstimate FeeKind = "estimate" // charged by others; a range shown to the buyer
)

// Tier is one band of a tiered fee. UpTo is inclusive; 0 means no upper bound.
type Tier struct {
	UpTo    int64
	Fee     int64
	Assumed bool // the figure is not sourced and must be confirmed (rails.md §5.1)
}

// FeeRule is the fee of one method from a date on.
type FeeRule struct {
	Method        Method
	EffectiveFrom time.Time
	Kind          FeeKind
	Collector     Collector
	Rate          money.Rate     // FeePercent
	Currency      money.Currency // FeeFlat, FeeTiered, FeeEstimate: the currency the figures are in
	Flat          int64          // FeeFlat
	Tiers         []Tier         // FeeTiered, ascending
	EstimateMin   int64          // FeeEstimate
	EstimateMax   int64
	Source        string // where the figure comes from
}

// Schedule is a set of fee rules; for a method the rule in force is the latest EffectiveFrom
// not after the payment date.
type Schedule struct{ Rules []FeeRule }

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// DefaultSchedule returns the R10 defaults with their history (rails.md §0, §4.1, §5.1, §7.1).
func DefaultSchedule() Schedule {
	epoch := day(2015, 1, 1)
	return Schedule{Rules: []FeeRule{
		{Method: Card, EffectiveFrom: epoch, Kind: FeePercent, Collector: CollectedByPlatform, Rate: 24_000, Source: "rails.md S39: 2.4% before 2018-06-04"},
		{Method: Card, EffectiveFrom: day(2018, 6, 4), Kind: FeePercent, Collector: CollectedByPlatform, Rate: 29_500, Source: "R10, rails.md S39"},
		{Method: TTWire, EffectiveFrom: epoch, Kind: FeeEstimate, Collector: CollectedByThirdParty, Currency: usd, EstimateMin: 30_00, EstimateMax: 50_00, Source: "R10: charged by the banks"},
		{Method: TTLocal, EffectiveFrom: epoch, Kind: FeeEstimate, Collector: CollectedByThirdParty, Currency: usd, EstimateMin: 0, EstimateMax: 1_00, Source: "rails.md S32: at most one unit of local currency"},
		{Method: WesternUnion, EffectiveFrom: epoch, Kind: FeeTiered, Collector: CollectedByThirdParty, Currency: usd, Source: "R10, rails.md S32", Tiers: []Tier{
			{UpTo: 50_00, Fee: 4_90}, {UpTo: 100_00, Fee: 8_00}, {UpTo: 250_00, Fee: 10_00},
			{UpTo: 500_00, Fee: 12_00}, {UpTo: 750_00, Fee: 15_00}, {UpTo: 1_000_00, Fee: 18_00},
			{UpTo: 0, Fee: 45_00, Assumed: true},
		}},
		{Method: PayLater, EffectiveFrom: epoch, Kind: FeeFree, Collector: CollectedByPlatform, Source: "R10, R11"},
		{Method: OnlineBank, EffectiveFrom: epoch, Kind: FeeFlat, Collector: CollectedByPlatform, Currency: usd, Flat: 15_00, Source: "R10, rails.md S29"},
		{Method: OnlineBank, EffectiveFrom: day(2017, 12, 15), Kind: FeeFree, Collector: CollectedByPlatform, Source: "rails.md S29: free 2017-12-15 to 2019-03-31"},
		{Method: OnlineBank, EffectiveFrom: day(2019, 4, 1), Kind: FeeFlat, Collector: CollectedByPlatform, Currency: usd, Flat: 15_00, Source: "R10, rails.md S29"},
		{Method: Boleto, EffectiveFrom: epoch, Kind: FeePercent, Collector: CollectedByPlatform, Rate: 13_500, Source: "rails.md S45 (third-party page)"},
	}}
}

// Rule returns the rule for m in force at t.
func (s Schedule) Rule(m Method, t time.Time) (FeeRule, error) {
	var best *FeeRule
	for i := range s.Rules {
		r := &s.Rules[i]
		if r.Method != m || r.EffectiveFrom.After(t) {
			continue
		}
		if best == nil || r.EffectiveFrom.After(best.EffectiveFrom) {
			best = r
		}
	}
	if best == nil {
		return FeeRule{}, fault.New(fault.Conflict, "no_fee_rule", "no fee rule for %s in force on %s", m, t.Format(time.DateOnly))
	}
	return *best, nil
}

// Validate checks that a rule is well formed: an admin may add rules at run time.
func (r FeeRule) Validate() error {
	if _, err := Info(r.Method); err != nil {
		return err
	}
	switch r.Kind {
	case FeeFree:
	case FeePercent:
		if r.Rate < 0 || r.Rate > money.RatePerMillion {
			return fault.FieldErr("rate", "invalid_rate", "rate must be between 0%% and 100%%")
		}
	case FeeFlat, FeeEstimate, FeeTiered:
		if !r.Currency.Valid() {
			return fault.FieldErr("currency", "unknown_currency", "unknown currency %q", string(r.Currency))
		}
		if r.Flat < 0 || r.EstimateMin < 0 || r.EstimateMax < r.EstimateMin {
			return fault.FieldErr("fee", "invalid_fee", "fee figures must be non-negative and min ≤ max")
		}
		if r.Kind == FeeTiered {
			if len(r.Tiers) == 0 || r.Tiers[len(r.Tiers)-1].UpTo != 0 {
				return fault.FieldErr("tiers", "invalid_tiers", "tiers must end with an unbounded tier")
			}
			if !sort.SliceIsSorted(r.Tiers[:len(r.Tiers)-1], func(i, j int) bool { return r.Tiers[i].UpTo < r.Tiers[j].UpTo }) {
				return fault.FieldErr("tiers", "invalid_tiers", "tiers must be in ascending order")
			}
			for i, t := range r.Tiers {
				if t.Fee < 0 || (i < len(r.Tiers)-1 && t.UpTo <= 0) {
					return fault.FieldErr("tiers", "invalid_tiers", "tier fees are non-negative and bounded tiers have a positive upper bound")
				}
			}
		}
	default:
		return fault.FieldErr("kind", "invalid_fee_kind", "unknown fee kind %q", string(r.Kind))
	}
	return nil
}

// Quote is what the buyer sees before paying (R10).
type Quote struct {
	Method    Method
	Amount    money.Amount // the installment owed to the escrow
	Fee       money.Amount // the fee; for FeeEstimate the upper estimate
	Collector Collector
	// Total is what the buyer sends the platform: Amount plus Fee when the platform collects it.
	Total       money.Amount
	EstimateMin *money.Amount // set when the fee is an estimate charged by others
	EstimateMax *money.Amount
	Rule        FeeRule
	Description string
}

// Quote prices a payment of amt by m at t. It refuses currencies the method does not take and
// payments above the method's cap.
func (s Schedule) Quote(m Method, amt money.Amount, t time.Time) (Quote, error) {
	info, err := Info(m)
	if err != nil {
		return Quote{}, err
	}
	if !info.Accepts(amt.Currency) {
		return Quote{}, fault.FieldErr("method", "method_currency_unsupported",
			"%s does not accept %s", info.Name, amt.Currency)
	}
	if !amt.IsPositive() {
		return Quote{}, fault.FieldErr("amount", "amount_not_positive", "a payment must be more than zero")
	}
	rule, err := s.Rule(m, t)
	if err != nil {
		return Quote{}, err
	}
	q := Quote{Method: m, Amount: amt, Collector: rule.Collector, Rule: rule, Fee: money.Zero(amt.Currency)}
	if err := q.price(rule); err != nil {
		return Quote{}, err
	}
	q.Total = amt
	if rule.Collector == CollectedByPlatform {
		if q.Total, err = amt.Add(q.Fee); err != nil {
			return Quote{}, fault.FieldErr("amount", "amount_overflow", "amount too large")
		}
	}
	if limit, ok := info.MaxMinor[amt.Currency]; ok && q.Total.Minor > limit {
		return Quote{}, fault.FieldErr("amount", "method_limit_exceeded", "%s takes at most %s per payment",
			info.Name, money.New(limit, amt.Currency))
	}
	return q, nil
}

func (q *Quote) price(r FeeRule) error {
	cur := q.Amount.Currency
	foreign := func() error {
		if r.Currency != cur {
			return fault.FieldErr("method", "method_currency_unsupported",
				"the %s fee is defined in %s only", r.Method, r.Currency)
		}
		return nil
	}
	switch r.Kind {
	case FeeFree:
		q.Description = "free"
	case FeePercent:
		fee, err := q.Amount.MulRate(r.Rate)
		if err != nil {
			return fault.FieldErr("amount", "amount_overflow", "amount too large")
		}
		q.Fee, q.Description = fee, r.Rate.String()+" of the amount"
	case FeeFlat:
		if err := foreign(); err != nil {
			return err
		}
		q.Fee = money.New(r.Flat, cur)
		q.Description = "flat fee per payment"
	case FeeTiered:
		if err := foreign(); err != nil {
			return err
		}
		for _, t := range r.Tiers {
			if t.UpTo == 0 || q.Amount.Minor <= t.UpTo {
				q.Fee = money.New(t.Fee, cur)
				q.Description = "tiered fee"
				if t.Assumed {
					q.Description += " (top tier assumed: rails.md §5.1)"
				}
				break
			}
		}
	case FeeEstimate:
		q.Description = "charged by the banks; not collected by the platform"
		if r.Currency != cur {
			return nil // an estimate in another currency is not shown rather than converted
		}
		lo, hi := money.New(r.EstimateMin, cur), money.New(r.EstimateMax, cur)
		q.EstimateMin, q.EstimateMax, q.Fee = &lo, &hi, hi
		q.Description = fmt.Sprintf("estimated %s–%s, %s", lo.Decimal(), hi.Decimal(), q.Description)
	}
	return nil
}
