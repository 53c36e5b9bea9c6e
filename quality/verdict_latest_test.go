package quality

import (
	"testing"

	"github.com/tradeassure/tradeassure/trade"
)

// TestJudgeLatest ensures the order page's judgement gives the booking's sampling plans before
// any report, the verdicts frozen with the latest report once there is one, and verdicts
// computed now for a report submitted before verdicts were frozen — the same ones Compare
// shows. R16
func TestJudgeLatest(t *testing.T) {
	o, x := comparedOrder(t, 9)
	if j, err := JudgeLatest(&trade.Order{Contracts: o.Contracts}); j != nil || err != nil {
		t.Fatalf("without a booking: %+v %v", j, err)
	}
	booked := &trade.Order{Contracts: o.Contracts, Inspection: &trade.Inspection{AQL: trade.DefaultAQL}}
	j, err := JudgeLatest(booked)
	if err != nil || j == nil {
		t.Fatalf("booked: %+v %v", j, err)
	}
	want := defaultPlans(t, o.Contracts[0].Contract)
	if j.Plans != want || j.Lot != LotSize(o.Contracts[0].Contract) || j.Verdict != nil || j.IndustryStandard != nil {
		t.Fatalf("booked, no report: %+v", j)
	}

	j, err = JudgeLatest(o)
	if err != nil {
		t.Fatal(err)
	}
	cmp, err := Compare(o, x)
	if err != nil {
		t.Fatal(err)
	}
	if j.Computed || j.Verdict == nil || j.Verdict.Accept || len(j.Verdict.Discrepancies) != len(cmp.Verdict.Discrepancies) ||
		j.IndustryStandard == nil || j.IndustryStandard.Accept != cmp.IndustryStandard.Accept {
		t.Fatalf("frozen: %+v, compare %+v", j, cmp)
	}

	r := &o.Inspection.Reports[0]
	frozen := *j.Verdict
	r.Verdict, r.Standard = nil, nil
	j, err = JudgeLatest(o)
	if err != nil {
		t.Fatal(err)
	}
	if !j.Computed || j.Verdict == nil || j.Verdict.Accept != frozen.Accept || len(j.Verdict.Discrepancies) != len(frozen.Discrepancies) {
		t.Fatalf("computed now: %+v, frozen %+v", j.Verdict, frozen)
	}
}
