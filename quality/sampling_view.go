package quality

// PlanView is a plan as the CLI's --json and the API show it. Fields may be added, never renamed.
type PlanView struct {
	CodeLetter      string `json:"code_letter"`
	SampleSize      int64  `json:"sample_size"`
	Accept          int    `json:"accept"`
	Reject          int    `json:"reject"`
	FullInspection  bool   `json:"full_inspection"`
	LotSize         int64  `json:"lot_size"`
	Level           string `json:"level"`
	AQL             string `json:"aql" doc:"The standard's label, never a float."`
	Inspection      string `json:"inspection"`
	TableCodeLetter string `json:"table_code_letter" doc:"The letter Table 1 gives, before following arrows."`
	PlanSampleSize  int64  `json:"plan_sample_size" doc:"The plan's own sample size, before 100% inspection caps it at the lot."`
	PerHundredUnits bool   `json:"per_hundred_units"`
	Convention      string `json:"convention,omitempty" doc:"zero_tolerance for AQL 0 (critical defects)."`
	Footnote        bool   `json:"footnote,omitempty"`
}

// View returns the plan's public shape.
func (p Plan) View() PlanView {
	return PlanView{CodeLetter: p.CodeLetter, SampleSize: p.SampleSize, Accept: p.Accept, Reject: p.Reject,
		FullInspection: p.FullInspection, LotSize: p.Lot, Level: string(p.Level), AQL: p.AQL.String(),
		Inspection: string(p.Inspection), TableCodeLetter: p.TableLetter, PlanSampleSize: p.PlanSampleSize,
		PerHundredUnits: p.AQL.PerHundredUnits(), Convention: p.Convention, Footnote: p.Footnote}
}
