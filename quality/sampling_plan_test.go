package quality

import (
	"strconv"
	"testing"

	"github.com/tradeassure/tradeassure/fault"
)

// refPlan is what the test expects a master-table cell to give, found without the package's code.
type refPlan struct {
	letter   string
	sample   int64
	ac, re   string
	footnote bool
}

// walkReference resolves every cell of a master table by walking the CSV rows themselves: a
// plan is itself, an arrow is the first plan met stepping letter by letter in its direction in
// the same AQL column, and below the tightened table at 0.025 is the footnote plan 3150, 1/2.
func walkReference(t *testing.T, name string, tightened bool) map[[2]string]refPlan {
	t.Helper()
	recs := tableRecords(t, name)[1:]
	var letters []string
	grid := map[[2]string][]string{} // (letter, AQL label) → record
	for _, r := range recs {
		if len(letters) == 0 || letters[len(letters)-1] != r[0] {
			letters = append(letters, r[0])
		}
		grid[[2]string{r[0], r[2]}] = r
	}
	out := map[[2]string]refPlan{}
	for i, letter := range letters {
		for _, a := range AQLs() {
			label := a.String()
			j := i
			for {
				r := grid[[2]string{letters[j], label}]
				if r[3] == "plan" {
					out[[2]string{letter, label}] = refPlan{letter: r[0], sample: tableInt(t, r[1]), ac: r[4], re: r[5]}
					break
				}
				if r[3] == "down" {
					j++
				} else {
					j--
				}
				if j == len(letters) && tightened && label == "0.025" {
					out[[2]string{letter, label}] = refPlan{letter: "S", sample: 3150, ac: "1", re: "2", footnote: true}
					break
				}
				if j < 0 || j >= len(letters) {
					t.Fatalf("%s: %s at %s runs off the table", name, letter, label)
				}
			}
		}
	}
	return out
}

// lotForLetter finds, in Table 1, a lot size and a level that give each code letter, taking
// the largest lot of the range so that the plan's sample rarely covers the lot.
func lotForLetter(t *testing.T) map[string]struct {
	lot   int64
	level Level
} {
	t.Helper()
	out := map[string]struct {
		lot   int64
		level Level
	}{}
	for _, r := range tableRecords(t, table1File)[1:] {
		lot := int64(1_000_000)
		if r[1] != "" {
			lot = tableInt(t, r[1])
		}
		for j, letter := range r[2:] {
			if _, ok := out[letter]; !ok {
				out[letter] = struct {
					lot   int64
					level Level
				}{lot, levels[j]}
			}
		}
	}
	return out
}

// TestMasterTablesEveryCell ensures every cell of Table 2-A (normal) and Table 2-B (tightened)
// gives, through PlanFor, exactly its plan, or for an arrow the first plan in the arrow's
// direction with that plan's own code letter and sample size (the footnote plan for tightened
// Q and R at 0.025). No arrow runs off either table.
func TestMasterTablesEveryCell(t *testing.T) {
	lots := lotForLetter(t)
	for _, tc := range []struct {
		in   Inspection
		file string
	}{{Normal, table2aFile}, {Tightened, table2bFile}} {
		want := walkReference(t, tc.file, tc.in == Tightened)
		cells := 0
		for _, r := range tableRecords(t, tc.file)[1:] {
			cells++
			w := want[[2]string{r[0], r[2]}]
			at, ok := lots[r[0]]
			if !ok {
				t.Fatalf("no lot in Table 1 gives code letter %s", r[0])
			}
			p, err := PlanFor(at.lot, at.level, mustAQL(t, r[2]), tc.in)
			if err != nil {
				t.Fatalf("%s %s at %s: %v", tc.in, r[0], r[2], err)
			}
			got := refPlan{p.CodeLetter, p.PlanSampleSize, strconv.Itoa(p.Accept), strconv.Itoa(p.Reject), p.Footnote}
			if p.TableLetter != r[0] || got != w {
				t.Errorf("%s %s at %s (%s): got %s %+v, want %+v", tc.in, r[0], r[2], r[3], p.TableLetter, got, w)
			}
			if p.SampleSize != min(p.PlanSampleSize, at.lot) || p.FullInspection != (p.PlanSampleSize >= at.lot) {
				t.Errorf("%s %s at %s: sample %d of plan %d, lot %d, full %v",
					tc.in, r[0], r[2], p.SampleSize, p.PlanSampleSize, at.lot, p.FullInspection)
			}
		}
		if cells != 16*26 {
			t.Errorf("%s: %d cells, want %d", tc.file, cells, 16*26)
		}
	}
}

// TestTable1EveryRowAndLevel ensures every lot range of Table 1 (its first and last lot and
// one inside), for every level, gives the letter the table prints, and that AQL 0 then plans
// with that letter's own sample size, Ac 0, Re 1 under the named convention.
func TestTable1EveryRowAndLevel(t *testing.T) {
	samples := map[string]int64{}
	for _, r := range tableRecords(t, table2aFile)[1:] {
		samples[r[0]] = tableInt(t, r[1])
	}
	for _, r := range tableRecords(t, table1File)[1:] {
		lo := tableInt(t, r[0])
		lotsInRange := []int64{lo, lo + 1, 2_000_000, LotMax} // the open-ended last row
		if r[1] != "" {
			hi := tableInt(t, r[1])
			lotsInRange = []int64{lo, (lo + hi) / 2, hi}
		}
		for j, letter := range r[2:] {
			for _, lot := range lotsInRange {
				for _, in := range []Inspection{Normal, Tightened} {
					p, err := PlanFor(lot, levels[j], AQL{}, in)
					if err != nil {
						t.Fatalf("lot %d %s: %v", lot, levels[j], err)
					}
					n := samples[letter]
					want := Plan{Lot: lot, Level: levels[j], Inspection: in, TableLetter: letter, CodeLetter: letter,
						PlanSampleSize: n, SampleSize: min(n, lot), Accept: 0, Reject: 1,
						FullInspection: n >= lot, Convention: ConventionZeroTolerance}
					if p != want {
						t.Errorf("lot %d %s %s:\n got %+v\nwant %+v", lot, levels[j], in, p, want)
					}
				}
			}
		}
	}
}

// TestPublishedExamples ensures hand-checked plans from the published tables, arrows at the
// tables' edges, lots smaller than the sample and the tightened footnote. The lot 1000 and lot
// 5000 cases prove the default: ISO 2859-1 general level II, AQL 0 critical / 2.5 major / 4.0
// minor. R5
func TestPublishedExamples(t *testing.T) {
	type want struct {
		table, letter string
		sample, plan  int64
		ac, re        int
		full          bool
	}
	for _, tc := range []struct {
		name  string
		lot   int64
		level Level
		aql   string
		in    Inspection
		want  want
	}{
		{"R5 major: lot 1000, II, 2.5", 1000, LevelII, "2.5", Normal, want{"J", "J", 80, 80, 5, 6, false}},
		{"R5 minor: lot 1000, II, 4.0", 1000, LevelII, "4.0", Normal, want{"J", "J", 80, 80, 7, 8, false}},
		{"R5 critical: lot 1000, II, AQL 0", 1000, LevelII, "0", Normal, want{"J", "J", 80, 80, 0, 1, false}},
		{"R5 critical: lot 5000, II, AQL 0", 5000, LevelII, "0", Normal, want{"L", "L", 200, 200, 0, 1, false}},
		{"R5 major: lot 5000, II, 2.5", 5000, LevelII, "2.5", Normal, want{"L", "L", 200, 200, 10, 11, false}},
		{"R5 minor: lot 5000, II, 4.0", 5000, LevelII, "4.0", Normal, want{"L", "L", 200, 200, 14, 15, false}},
		{"B at 0.65 down to F, sample 20 covers lot 10", 10, LevelII, "0.65", Normal, want{"B", "F", 10, 20, 0, 1, true}},
		{"A at 0.010 down the column to Q", 3, LevelS1, "0.010", Normal, want{"A", "Q", 3, 1250, 0, 1, true}},
		{"A at 10 down past B to C, sample equals lot", 5, LevelII, "10", Normal, want{"A", "C", 5, 5, 1, 2, true}},
		{"A at 6.5: its own plan", 8, LevelII, "6.5", Normal, want{"A", "A", 2, 2, 0, 1, false}},
		{"lot 2, level III: B at 1.0 down to E, sample exceeds the lot", 2, LevelIII, "1.0", Normal, want{"B", "E", 2, 13, 0, 1, true}},
		{"B at 6.5 up to A", 15, LevelII, "6.5", Normal, want{"B", "A", 2, 2, 0, 1, false}},
		{"R at 0.010 up to Q", 600_000, LevelIII, "0.010", Normal, want{"R", "Q", 1250, 1250, 0, 1, false}},
		{"R at 0.015 up past Q to P", 600_000, LevelIII, "0.015", Normal, want{"R", "P", 800, 800, 0, 1, false}},
		{"R at 1.0 up to Q", LotMax, LevelIII, "1.0", Normal, want{"R", "Q", 1250, 1250, 21, 22, false}},
		{"R at 1000 up to B", 600_000, LevelIII, "1000", Normal, want{"R", "B", 3, 3, 44, 45, false}},
		{"R at 0.65: its own plan", 600_000, LevelIII, "0.65", Normal, want{"R", "R", 2000, 2000, 21, 22, false}},
		{"Q at 0.025 down to R", 200_000, LevelIII, "0.025", Normal, want{"Q", "R", 2000, 2000, 1, 2, false}},
		{"J at 25 per hundred units, up to H", 1000, LevelII, "25", Normal, want{"J", "H", 50, 50, 21, 22, false}},
		{"J at 15 per hundred units", 1000, LevelII, "15", Normal, want{"J", "J", 80, 80, 21, 22, false}},
		{"tightened lot 1000, II, 2.5", 1000, LevelII, "2.5", Tightened, want{"J", "J", 80, 80, 3, 4, false}},
		{"tightened lot 1000, II, 4.0", 1000, LevelII, "4.0", Tightened, want{"J", "J", 80, 80, 5, 6, false}},
		{"tightened lot 5000, II, 2.5", 5000, LevelII, "2.5", Tightened, want{"L", "L", 200, 200, 8, 9, false}},
		{"tightened A at 6.5 down to B", 8, LevelII, "6.5", Tightened, want{"A", "B", 3, 3, 0, 1, false}},
		{"tightened A at 15 down past B to C", 8, LevelII, "15", Tightened, want{"A", "C", 5, 5, 1, 2, false}},
		{"tightened R at 0.010: its own plan", 600_000, LevelIII, "0.010", Tightened, want{"R", "R", 2000, 2000, 0, 1, false}},
		{"tightened R at 0.015 up to Q", 600_000, LevelIII, "0.015", Tightened, want{"R", "Q", 1250, 1250, 0, 1, false}},
		{"tightened R at 0.10: its own plan", 600_000, LevelIII, "0.10", Tightened, want{"R", "R", 2000, 2000, 3, 4, false}},
		{"tightened critical: AQL 0 is the convention", 1000, LevelII, "0", Tightened, want{"J", "J", 80, 80, 0, 1, false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := PlanFor(tc.lot, tc.level, mustAQL(t, tc.aql), tc.in)
			if err != nil {
				t.Fatal(err)
			}
			got := want{p.TableLetter, p.CodeLetter, p.SampleSize, p.PlanSampleSize, p.Accept, p.Reject, p.FullInspection}
			if got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
			if (p.Convention == ConventionZeroTolerance) != (tc.aql == "0") || p.Footnote {
				t.Errorf("convention %q, footnote %v", p.Convention, p.Footnote)
			}
		})
	}
}

// TestTightenedFootnote ensures tightened inspection at AQL 0.025 for code letters Q and R
// gives the footnote plan (sample 3150, Ac 1, Re 2), and that a lot smaller than 3150 is
// inspected in full.
func TestTightenedFootnote(t *testing.T) {
	for _, tc := range []struct {
		lot   int64
		level Level
		table string
	}{{200_000, LevelIII, "Q"}, {600_000, LevelIII, "R"}, {600_000, LevelII, "Q"}} {
		p, err := PlanFor(tc.lot, tc.level, mustAQL(t, "0.025"), Tightened)
		if err != nil {
			t.Fatal(err)
		}
		if p.TableLetter != tc.table || p.CodeLetter != "S" || p.SampleSize != 3150 || p.Accept != 1 ||
			p.Reject != 2 || !p.Footnote || p.FullInspection {
			t.Errorf("lot %d %s: %+v", tc.lot, tc.level, p)
		}
	}
	// P at 0.025 tightened is a plan of its own: no footnote.
	if p, _ := PlanFor(100_000, LevelIII, mustAQL(t, "0.025"), Tightened); p.CodeLetter != "P" || p.Footnote {
		t.Errorf("P at 0.025: %+v", p)
	}
	// The footnote is tightened only: normal Q at 0.025 leads to R's plan.
	if p, _ := PlanFor(200_000, LevelIII, mustAQL(t, "0.025"), Normal); p.CodeLetter != "R" || p.Footnote {
		t.Errorf("normal Q at 0.025: %+v", p)
	}
}

// TestPlanForRefusesBadInput ensures out-of-range lots, unknown levels, AQLs and inspections are
// invalid-input errors naming the field, never a plan or a panic.
func TestPlanForRefusesBadInput(t *testing.T) {
	ii, aql := LevelII, mustAQL(t, "2.5")
	for _, tc := range []struct {
		name   string
		lot    int64
		level  Level
		aql    AQL
		in     Inspection
		field  string
		reason string
	}{
		{"lot 1", 1, ii, aql, Normal, "lot", "lot_too_small"},
		{"lot 0", 0, ii, aql, Normal, "lot", "lot_too_small"},
		{"negative lot", -5, ii, aql, Normal, "lot", "lot_too_small"},
		{"lot above LotMax", LotMax + 1, ii, aql, Normal, "lot", "lot_too_large"},
		{"unknown level", 1000, Level("IV"), aql, Normal, "level", "unknown_inspection_level"},
		{"empty level", 1000, "", aql, Normal, "level", "unknown_inspection_level"},
		{"AQL not in the standard", 1000, ii, AQL{7}, Normal, "aql", "unknown_aql"},
		{"reduced inspection", 1000, ii, aql, Inspection("reduced"), "inspection", "unknown_inspection"},
		{"empty inspection", 1000, ii, aql, "", "inspection", "unknown_inspection"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := PlanFor(tc.lot, tc.level, tc.aql, tc.in)
			e, ok := fault.As(err)
			if !ok || e.Code != fault.Invalid || e.Field != tc.field || e.Reason != tc.reason {
				t.Fatalf("got %+v, %v; want invalid %s %s", p, err, tc.field, tc.reason)
			}
		})
	}
}

// TestResolveRunsOffTable ensures a master table whose arrows leave it is reported as an error
// (corrupt data), except below the tightened table at 0.025, where the footnote plan is.
func TestResolveRunsOffTable(t *testing.T) {
	m := &master{letters: []string{"A", "B"}, row: map[string]int{"A": 0, "B": 1}, sample: []int64{2, 3},
		cells: make([][len(aqlMilli)]cell, 2)}
	for col := range aqlMilli {
		m.cells[0][col], m.cells[1][col] = cell{kind: cellUp}, cell{kind: cellDown}
	}
	if _, err := m.resolve(0, 0, Normal); err == nil {
		t.Error("up from the first letter: want an error")
	}
	if _, err := m.resolve(1, 0, Tightened); err == nil {
		t.Error("down from the last letter at 0.010: want an error")
	}
	col := aqlColumn(mustAQL(t, "0.025"))
	if _, err := m.resolve(1, col, Normal); err == nil {
		t.Error("down from the last letter at 0.025, normal: want an error")
	}
	if r, err := m.resolve(1, col, Tightened); err != nil || !r.footnote || r.sample != 3150 {
		t.Errorf("down from the last letter at 0.025, tightened: %+v, %v", r, err)
	}
	m.cells[0][0], m.cells[1][0] = cell{kind: cellDown}, cell{kind: cellUp} // a cycle
	if _, err := m.resolve(0, 0, Normal); err == nil {
		t.Error("a cycle of arrows: want an error")
	}
}
