package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strconv"

	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/quality"
)

const aqlUsage = "usage: tradeassure aql --lot N --level L --aql A [--inspection normal|tightened] [--json]\n"

// runAQL prints the ISO 2859-1 single sampling plan for a lot.
func runAQL(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("aql", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, aqlUsage); fs.PrintDefaults() }
	lotText := fs.String("lot", "", "lot size in units (2 or more)")
	levelText := fs.String("level", "", "inspection level: S-1, S-2, S-3, S-4, I, II or III")
	aqlText := fs.String("aql", "", "AQL as the standard labels it (0.010 … 1000), or 0 for critical defects (zero tolerance)")
	inText := fs.String("inspection", string(quality.Normal), "inspection: normal or tightened")
	asJSON := fs.Bool("json", false, "print the plan as JSON")
	if err := fs.Parse(args); err != nil {
		return exitError{2}
	}
	usageErr := func(format string, a ...any) error {
		fmt.Fprintf(stderr, "tradeassure aql: "+format+"\n%s", append(a, aqlUsage)...)
		return exitError{2}
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected argument %q", fs.Arg(0))
	}
	for _, f := range []struct{ name, value string }{{"lot", *lotText}, {"level", *levelText}, {"aql", *aqlText}} {
		if f.value == "" {
			return usageErr("--%s is required", f.name)
		}
	}
	lot, err := strconv.ParseInt(*lotText, 10, 64)
	if err != nil {
		return usageErr("--lot %q is not a whole number of units from %d to %d", *lotText, quality.LotMin, quality.LotMax)
	}
	plan, err := parseAndPlan(lot, *levelText, *aqlText, *inText)
	if e, ok := fault.As(err); ok && e.Code == fault.Invalid {
		return usageErr("--%s: %s", e.Field, e.Message)
	} else if err != nil {
		return err
	}
	if *asJSON {
		return printAQLJSON(stdout, plan)
	}
	printAQL(stdout, plan)
	return nil
}

// parseAndPlan reads the level, AQL and inspection and asks for the plan.
func parseAndPlan(lot int64, levelText, aqlText, inText string) (quality.Plan, error) {
	level, err := quality.ParseLevel(levelText)
	if err != nil {
		return quality.Plan{}, err
	}
	aql, err := quality.ParseAQL(aqlText)
	if err != nil {
		return quality.Plan{}, err
	}
	in, err := quality.ParseInspection(inText)
	if err != nil {
		return quality.Plan{}, err
	}
	return quality.PlanFor(lot, level, aql, in)
}

func printAQLJSON(w io.Writer, p quality.Plan) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(p.View())
}

// printAQL prints the plan as a short table for people.
func printAQL(w io.Writer, p quality.Plan) {
	unit, aqlNote := "nonconforming units", "% nonconforming"
	switch {
	case p.AQL.IsZero():
		aqlNote = " (critical defects: zero-tolerance convention, not an ISO 2859-1 AQL)"
	case p.AQL.PerHundredUnits():
		unit, aqlNote = "nonconformities", " nonconformities per hundred units"
	}
	letter := p.CodeLetter
	switch {
	case p.Footnote:
		letter += fmt.Sprintf(" (Table 1 gives %s; its arrow leads to the tightened table's footnote plan)", p.TableLetter)
	case p.CodeLetter != p.TableLetter:
		letter += fmt.Sprintf(" (Table 1 gives %s; its arrow leads to %s)", p.TableLetter, p.CodeLetter)
	}
	sample := strconv.FormatInt(p.SampleSize, 10)
	if p.FullInspection {
		sample += fmt.Sprintf(" — 100%% inspection: the plan's sample of %d is not smaller than the lot", p.PlanSampleSize)
	}
	fmt.Fprintf(w, "ISO 2859-1 single sampling, %s inspection\n", p.Inspection)
	fmt.Fprintf(w, "  lot size          %d\n", p.Lot)
	fmt.Fprintf(w, "  inspection level  %s\n", p.Level)
	fmt.Fprintf(w, "  AQL               %s%s\n", p.AQL, aqlNote)
	fmt.Fprintf(w, "  code letter       %s\n", letter)
	fmt.Fprintf(w, "  sample size       %s\n", sample)
	accept := fmt.Sprintf("accept the lot with %d or fewer %s", p.Accept, unit)
	if p.Accept == 0 {
		accept = "accept the lot only with no " + unit
	}
	fmt.Fprintf(w, "  accept (Ac)       %d — %s\n", p.Accept, accept)
	fmt.Fprintf(w, "  reject (Re)       %d — reject it with %d or more\n", p.Reject, p.Reject)
}
