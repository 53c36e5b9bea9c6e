package quality

import (
	"fmt"

	"github.com/tradeassure/tradeassure/fault"
)

// ConventionZeroTolerance names the inspection companies' rule for critical defects: AQL 0,
// the code letter's own sample size, accept on 0 and reject on 1. ISO 2859-1 has no AQL 0;
// plans made under this convention say so in Plan.Convention.
const ConventionZeroTolerance = "zero_tolerance"

// The plan that tightened inspection's footnote gives for code letters Q and R at AQL 0.025,
// whose arrows point below the table. MIL-STD-105E and Z1.4 print it as a row of code letter S.
const (
	footnoteLetter     = "S"
	footnoteSample     = 3150
	footnoteAcceptance = 1
	footnoteAQLMilli   = 25
)

// Plan is a single sampling plan for one lot: how many units to draw and the acceptance and
// rejection numbers that decide the lot.
type Plan struct {
	Lot        int64
	Level      Level
	AQL        AQL
	Inspection Inspection
	// TableLetter is Table 1's code letter for the lot and level, before any arrow.
	TableLetter string
	// CodeLetter is the letter of the plan applied: an arrow in the master table leads to
	// another letter, and the plan brings that letter's sample size.
	CodeLetter string
	// PlanSampleSize is the sample size of CodeLetter; SampleSize is what to inspect: the same,
	// or the whole lot when the plan's sample is not smaller than the lot.
	PlanSampleSize int64
	SampleSize     int64
	// Accept is the most nonconforming units (nonconformities, for AQLs above 10) in the sample
	// that still accept the lot; Reject is the fewest that reject it.
	Accept, Reject int
	// FullInspection is set when every unit of the lot is inspected (SampleSize == Lot).
	FullInspection bool
	// Convention names a rule from outside the standard that made this plan
	// (ConventionZeroTolerance for AQL 0); empty for plans of ISO 2859-1 itself.
	Convention string
	// Footnote is set when the plan is tightened inspection's footnote plan (Q, R at 0.025).
	Footnote bool
}

// resolved is what a master table gives once arrows are followed.
type resolved struct {
	letter   string
	sample   int64
	ac, re   int
	footnote bool
}

// PlanFor returns the ISO 2859-1 single sampling plan for a lot of lot units at inspection
// level l, AQL a and inspection in. Arrows are followed as the standard says, and the plan they
// lead to brings its own code letter and sample size. AQL 0 gives the zero-tolerance
// convention. A sample not smaller than the lot means 100% inspection, still judged by the
// plan's Ac and Re. Errors are fault.Invalid with the field at fault ("lot", "level", "aql",
// "inspection"), or fault.Internal if the embedded tables are corrupt.
func PlanFor(lot int64, l Level, a AQL, in Inspection) (Plan, error) {
	t, err := loadTables()
	if err != nil {
		return Plan{}, fault.New(fault.Internal, "sampling_tables_corrupt", "sampling tables: %v", err)
	}
	switch {
	case lot < LotMin:
		return Plan{}, fault.FieldErr("lot", "lot_too_small", "lot size %d is below %d units", lot, LotMin)
	case lot > LotMax:
		return Plan{}, fault.FieldErr("lot", "lot_too_large", "lot size %d is above %d units", lot, LotMax)
	case levelIndex(l) < 0:
		return Plan{}, fault.FieldErr("level", "unknown_inspection_level",
			"unknown inspection level %q: use S-1, S-2, S-3, S-4, I, II or III", l)
	case !a.IsZero() && aqlColumn(a) < 0:
		return Plan{}, fault.FieldErr("aql", "unknown_aql", "AQL %s is not in the standard", a)
	}
	m, ok := t.master[in]
	if !ok {
		return Plan{}, fault.FieldErr("inspection", "unknown_inspection",
			"unknown inspection %q: use normal or tightened", in)
	}
	p := Plan{Lot: lot, Level: l, AQL: a, Inspection: in, TableLetter: t.letter(lot, l)}
	row := m.row[p.TableLetter]
	var r resolved
	if a.IsZero() {
		r = resolved{letter: p.TableLetter, sample: m.sample[row], ac: 0, re: 1}
		p.Convention = ConventionZeroTolerance
	} else if r, err = m.resolve(row, aqlColumn(a), in); err != nil {
		return Plan{}, fault.New(fault.Internal, "sampling_tables_corrupt", "sampling tables: %v", err)
	}
	p.CodeLetter, p.PlanSampleSize, p.Accept, p.Reject, p.Footnote = r.letter, r.sample, r.ac, r.re, r.footnote
	p.SampleSize = p.PlanSampleSize
	if p.SampleSize >= lot {
		p.SampleSize, p.FullInspection = lot, true
	}
	return p, nil
}

// letter returns Table 1's code letter; lot and l are valid, and the ranges tile LotMin … ∞.
func (t *tables) letter(lot int64, l Level) string {
	for _, lr := range t.lots {
		if lot >= lr.min && (lr.max == 0 || lot <= lr.max) {
			return lr.letters[levelIndex(l)]
		}
	}
	panic(fmt.Sprintf("quality: no Table 1 row for lot %d", lot)) // parseTable1 rules this out
}

// resolve follows arrows from row, col to a plan in the same AQL column. Running off the table
// is an error, except below the tightened table at AQL 0.025, where the footnote plan waits.
func (m *master) resolve(row, col int, in Inspection) (resolved, error) {
	r := row
	for range m.letters { // a path longer than the table would be a cycle: corrupt data
		c := m.cells[r][col]
		switch c.kind {
		case cellPlan:
			return resolved{letter: m.letters[r], sample: m.sample[r], ac: c.ac, re: c.re}, nil
		case cellDown:
			r++
		case cellUp:
			r--
		}
		switch {
		case r == len(m.letters) && in == Tightened && aqlMilli[col] == footnoteAQLMilli:
			return resolved{letter: footnoteLetter, sample: footnoteSample,
				ac: footnoteAcceptance, re: footnoteAcceptance + 1, footnote: true}, nil
		case r < 0 || r >= len(m.letters):
			return resolved{}, fmt.Errorf("%s at AQL %s: the arrows run off the %s table",
				m.letters[row], AQL{aqlMilli[col]}, in)
		}
	}
	return resolved{}, fmt.Errorf("%s at AQL %s: the arrows do not reach a plan", m.letters[row], AQL{aqlMilli[col]})
}
