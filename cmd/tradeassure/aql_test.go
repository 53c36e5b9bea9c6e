package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// runAQLCmd runs `tradeassure aql args…` and returns both outputs and its error.
func runAQLCmd(args ...string) (stdout, stderr string, err error) {
	var out, errOut bytes.Buffer
	err = run(context.Background(), append([]string{"aql"}, args...), &out, &errOut)
	return out.String(), errOut.String(), err
}

// TestAQLJSON ensures `tradeassure aql --json` prints the published plans under stable field
// names: the standard's default for a lot of 1000 (level II, AQL 0 / 2.5 / 4.0), arrows at both
// edges of the tables, lots smaller than the sample, per-hundred-unit AQLs, equivalent AQL
// spellings and the tightened footnote. R5
func TestAQLJSON(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want map[string]any
	}{
		{[]string{"--lot", "1000", "--level", "II", "--aql", "2.5"}, map[string]any{"code_letter": "J", "sample_size": 80.0,
			"accept": 5.0, "reject": 6.0, "full_inspection": false, "lot_size": 1000.0, "level": "II", "aql": "2.5",
			"inspection": "normal", "table_code_letter": "J", "plan_sample_size": 80.0, "per_hundred_units": false}},
		{[]string{"--lot", "1000", "--level", "II", "--aql", "4"}, map[string]any{"code_letter": "J", "sample_size": 80.0,
			"accept": 7.0, "reject": 8.0, "aql": "4.0"}},
		{[]string{"--lot", "1000", "--level", "II", "--aql", "0"}, map[string]any{"code_letter": "J", "sample_size": 80.0,
			"accept": 0.0, "reject": 1.0, "aql": "0", "convention": "zero_tolerance"}},
		{[]string{"--lot=10", "--level=II", "--aql=0.650"}, map[string]any{"table_code_letter": "B", "code_letter": "F",
			"plan_sample_size": 20.0, "sample_size": 10.0, "accept": 0.0, "reject": 1.0, "full_inspection": true, "aql": "0.65"}},
		{[]string{"--lot", "3", "--level", "s-1", "--aql", "0.01"}, map[string]any{"table_code_letter": "A", "code_letter": "Q",
			"plan_sample_size": 1250.0, "sample_size": 3.0, "accept": 0.0, "reject": 1.0, "full_inspection": true,
			"level": "S-1", "aql": "0.010"}},
		{[]string{"--lot", "600000", "--level", "III", "--aql", "1000"}, map[string]any{"table_code_letter": "R",
			"code_letter": "B", "sample_size": 3.0, "accept": 44.0, "reject": 45.0, "per_hundred_units": true}},
		{[]string{"--lot", "600000", "--level", "III", "--aql", "0.015"}, map[string]any{"table_code_letter": "R",
			"code_letter": "P", "sample_size": 800.0, "accept": 0.0, "reject": 1.0}},
		{[]string{"--lot", "1000", "--level", "II", "--aql", "25.0"}, map[string]any{"code_letter": "H",
			"sample_size": 50.0, "accept": 21.0, "reject": 22.0, "aql": "25", "per_hundred_units": true}},
		{[]string{"--lot", "1000", "--level", "II", "--aql", "2.5", "--inspection", "tightened"}, map[string]any{
			"code_letter": "J", "sample_size": 80.0, "accept": 3.0, "reject": 4.0, "inspection": "tightened"}},
		{[]string{"--lot", "200000", "--level", "III", "--aql", "0.025", "--inspection", "tightened"}, map[string]any{
			"table_code_letter": "Q", "code_letter": "S", "sample_size": 3150.0, "accept": 1.0, "reject": 2.0, "footnote": true}},
		{[]string{"--lot", "5", "--level", "II", "--aql", "10"}, map[string]any{"table_code_letter": "A", "code_letter": "C",
			"sample_size": 5.0, "accept": 1.0, "reject": 2.0, "full_inspection": true, "per_hundred_units": false}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, errOut, err := runAQLCmd(append(tc.args, "--json")...)
			if err != nil {
				t.Fatalf("%v\n%s", err, errOut)
			}
			var got map[string]any
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s = %#v, want %#v\n%s", k, got[k], v, out)
				}
			}
			for _, k := range []string{"code_letter", "sample_size", "accept", "reject", "full_inspection"} {
				if _, ok := got[k]; !ok {
					t.Errorf("field %s missing", k)
				}
			}
			if _, ok := got["convention"]; ok != (tc.want["convention"] != nil) {
				t.Errorf("convention present %v, want only for AQL 0", ok)
			}
		})
	}
}

// TestAQLText ensures the human output names the code letter, the arrow, the sample, the 100%
// inspection and Ac/Re.
func TestAQLText(t *testing.T) {
	out, _, err := runAQLCmd("--lot", "10", "--level", "II", "--aql", "0.65")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"normal inspection", "Table 1 gives B", "F", "100% inspection", "accept (Ac)       0",
		"reject (Re)       1"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	out, _, _ = runAQLCmd("--lot", "1000", "--level", "II", "--aql", "0")
	if !strings.Contains(out, "zero-tolerance convention") {
		t.Errorf("AQL 0 output does not name the convention:\n%s", out)
	}
}

// TestAQLBadInput ensures bad input exits 2 with a message naming the flag at fault.
func TestAQLBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		flag string
	}{
		{[]string{"--level", "II", "--aql", "2.5"}, "--lot"},
		{[]string{"--lot", "1", "--level", "II", "--aql", "2.5"}, "--lot"},
		{[]string{"--lot", "-5", "--level", "II", "--aql", "2.5"}, "--lot"},
		{[]string{"--lot", "abc", "--level", "II", "--aql", "2.5"}, "--lot"},
		{[]string{"--lot", "99999999999999999999", "--level", "II", "--aql", "2.5"}, "--lot"},
		{[]string{"--lot", "1000000000001", "--level", "II", "--aql", "2.5"}, "--lot"},
		{[]string{"--lot", "1000", "--aql", "2.5"}, "--level"},
		{[]string{"--lot", "1000", "--level", "IV", "--aql", "2.5"}, "--level"},
		{[]string{"--lot", "1000", "--level", "II"}, "--aql"},
		{[]string{"--lot", "1000", "--level", "II", "--aql", "3"}, "--aql"},
		{[]string{"--lot", "1000", "--level", "II", "--aql", "0.011"}, "--aql"},
		{[]string{"--lot", "1000", "--level", "II", "--aql", "2,5"}, "--aql"},
		{[]string{"--lot", "1000", "--level", "II", "--aql", "-1"}, "--aql"},
		{[]string{"--lot", "1000", "--level", "II", "--aql", "2.5", "--inspection", "reduced"}, "--inspection"},
		{[]string{"--lot", "1000", "--level", "II", "--aql", "2.5", "extra"}, "extra"},
		{[]string{"--nope"}, "-nope"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, errOut, err := runAQLCmd(tc.args...)
			if ee, ok := err.(exitError); !ok || ee.code != 2 {
				t.Fatalf("got %v, want exit 2\n%s%s", err, out, errOut)
			}
			if !strings.Contains(errOut, tc.flag) || out != "" {
				t.Errorf("stderr does not name %s (or stdout not empty):\n%s%s", tc.flag, errOut, out)
			}
		})
	}
}
