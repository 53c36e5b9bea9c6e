package quality

import (
	"bytes"
	"embed"
	"encoding/csv"
	"fmt"
	"slices"
	"strconv"
	"sync"
)

// tableFiles holds copies of the reference tables (shared/reference/aql): the product never
// reads the reference directory at run time, and a test keeps the copies byte-identical.
//
//go:embed tables/*.csv
var tableFiles embed.FS

// The embedded files and the master table each holds.
const (
	table1File  = "tables/table1_code_letters.csv"
	table2aFile = "tables/table2a_normal.csv"
	table2bFile = "tables/table2b_tightened.csv"
)

// masterFiles maps each inspection offered to its master table.
var masterFiles = map[Inspection]string{Normal: table2aFile, Tightened: table2bFile}

// cellKind is what a master table prints at a code letter and an AQL.
type cellKind uint8

// The kinds of cell: a plan, or an arrow to the first plan below (↓) or above (↑).
const (
	cellPlan cellKind = iota + 1
	cellDown
	cellUp
)

// cell is one entry of a master table; Ac and Re are set for plans only.
type cell struct {
	kind   cellKind
	ac, re int
}

// master is one master table (2-A normal, 2-B tightened): a row per code letter.
type master struct {
	letters []string              // code letters, top to bottom
	row     map[string]int        // code letter → row
	sample  []int64               // each code letter's own sample size
	cells   [][len(aqlMilli)]cell // [row][AQL column]
}

// lotRange is one row of Table 1: lots from min to max (max 0: no upper bound) and the code
// letter for each level, in levels order.
type lotRange struct {
	min, max int64
	letters  [len(levels)]string
}

// tables is the parsed reference data.
type tables struct {
	lots   []lotRange
	master map[Inspection]*master
}

// loadTables parses the embedded tables once. An error means the embedded data is corrupt: a
// build defect, which a test rules out, never a user's mistake.
var loadTables = sync.OnceValues(parseTables)

func parseTables() (*tables, error) {
	t := &tables{master: map[Inspection]*master{}}
	for in, name := range masterFiles {
		m, err := parseMaster(in, name)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", name, err)
		}
		t.master[in] = m
	}
	lots, err := parseTable1(t.master)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", table1File, err)
	}
	t.lots = lots
	return t, nil
}

// readCSV returns the records of an embedded file after checking its header.
func readCSV(name string, header ...string) ([][]string, error) {
	b, err := tableFiles.ReadFile(name)
	if err != nil {
		return nil, err
	}
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = len(header)
	recs, err := r.ReadAll()
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 || !slices.Equal(recs[0], header) {
		return nil, fmt.Errorf("header is not %v", header)
	}
	return recs[1:], nil
}

// parseMaster reads a master table: for each code letter, one row per AQL in column order.
func parseMaster(in Inspection, name string) (*master, error) {
	recs, err := readCSV(name, "code", "sample_size", "aql", "cell", "ac", "re")
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 || len(recs)%len(aqlMilli) != 0 {
		return nil, fmt.Errorf("%d rows: not a whole number of letters × %d AQLs", len(recs), len(aqlMilli))
	}
	m := &master{row: map[string]int{}}
	for i, rec := range recs {
		code, col := rec[0], i%len(aqlMilli)
		if col == 0 {
			if err := m.addLetter(code, rec[1]); err != nil {
				return nil, fmt.Errorf("row %d: %w", i+2, err)
			}
		}
		r := len(m.letters) - 1
		c, err := parseCell(rec, m.letters[r], m.sample[r], col)
		if err != nil {
			return nil, fmt.Errorf("row %d: %w", i+2, err)
		}
		m.cells[r][col] = c
	}
	// Every arrow must lead to a plan (or to the tightened footnote) before anyone asks.
	for r := range m.letters {
		for col := range aqlMilli {
			if _, err := m.resolve(r, col, in); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

// addLetter starts a new code letter's row; sample sizes must grow down the table.
func (m *master) addLetter(code, sample string) error {
	n, err := strconv.ParseInt(sample, 10, 64)
	if err != nil || n < 1 {
		return fmt.Errorf("bad sample size %q", sample)
	}
	if _, dup := m.row[code]; dup || code == "" {
		return fmt.Errorf("code letter %q repeated or empty", code)
	}
	if k := len(m.sample); k > 0 && n <= m.sample[k-1] {
		return fmt.Errorf("sample size %d of %s does not exceed the letter above", n, code)
	}
	m.row[code] = len(m.letters)
	m.letters = append(m.letters, code)
	m.sample = append(m.sample, n)
	m.cells = append(m.cells, [len(aqlMilli)]cell{})
	return nil
}

// parseCell checks a record against its letter and AQL column and reads its cell.
func parseCell(rec []string, letter string, sample int64, col int) (cell, error) {
	a, err := ParseAQL(rec[2])
	switch {
	case rec[0] != letter || rec[1] != strconv.FormatInt(sample, 10):
		return cell{}, fmt.Errorf("letter %s sample %s breaks the run of %s (%d)", rec[0], rec[1], letter, sample)
	case err != nil || a.milli != aqlMilli[col] || a.String() != rec[2]:
		return cell{}, fmt.Errorf("AQL %q where %s belongs", rec[2], AQL{aqlMilli[col]})
	}
	switch rec[3] {
	case "down", "up":
		if rec[4] != "" || rec[5] != "" {
			return cell{}, fmt.Errorf("an arrow with Ac/Re")
		}
		if rec[3] == "down" {
			return cell{kind: cellDown}, nil
		}
		return cell{kind: cellUp}, nil
	case "plan":
		ac, err1 := strconv.Atoi(rec[4])
		re, err2 := strconv.Atoi(rec[5])
		// Single sampling: the rejection number is always one above the acceptance number.
		if err1 != nil || err2 != nil || ac < 0 || re != ac+1 {
			return cell{}, fmt.Errorf("bad plan Ac %q Re %q", rec[4], rec[5])
		}
		return cell{kind: cellPlan, ac: ac, re: re}, nil
	}
	return cell{}, fmt.Errorf("unknown cell %q", rec[3])
}

// parseTable1 reads the code letters by lot size; the ranges must tile 2 … ∞ and every letter
// must have a row in each master table.
func parseTable1(masters map[Inspection]*master) ([]lotRange, error) {
	recs, err := readCSV(table1File, "lot_min", "lot_max", "S1", "S2", "S3", "S4", "I", "II", "III")
	if err != nil {
		return nil, err
	}
	var lots []lotRange
	next := LotMin
	for i, rec := range recs {
		var lr lotRange
		lr.min, err = strconv.ParseInt(rec[0], 10, 64)
		if err != nil || lr.min != next {
			return nil, fmt.Errorf("row %d: lot_min %q, want %d", i+2, rec[0], next)
		}
		if last := i == len(recs)-1; last != (rec[1] == "") {
			return nil, fmt.Errorf("row %d: only the last row is open-ended", i+2)
		}
		if rec[1] != "" {
			lr.max, err = strconv.ParseInt(rec[1], 10, 64)
			if err != nil || lr.max < lr.min {
				return nil, fmt.Errorf("row %d: bad lot_max %q", i+2, rec[1])
			}
			next = lr.max + 1
		}
		for j, letter := range rec[2:] {
			for in, m := range masters {
				if _, ok := m.row[letter]; !ok {
					return nil, fmt.Errorf("row %d: code letter %q not in the %s table", i+2, letter, in)
				}
			}
			lr.letters[j] = letter
		}
		lots = append(lots, lr)
	}
	if len(lots) == 0 {
		return nil, fmt.Errorf("no rows")
	}
	return lots, nil
}
