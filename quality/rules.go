package quality

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/tradeassure/tradeassure/trade"
)

// complianceRule says that products of some categories sold in a market must meet a regulation,
// so the contract should require it: a shipment that fails an unrequired regulation cannot be
// refused on the contract.
type complianceRule struct {
	Name       string     // "CPSIA": shown as the finding's attribute
	Categories []Category // nil: every category
	Market     string     // "US", "US-CA" (a region), "EU" (members and EEA), "UK"
	Keywords   []string   // a requirement mentioning one (whole words, any case) meets the rule
	Line       string     // the requirement line to suggest
	Why        string     // one plain sentence: what the law asks
	Source     string     // where the rule comes from, for whoever maintains this table
}

var childrens = []Category{CategoryChildrensApparel, CategoryToys}

// complianceRules is a starting table, not legal advice: the regulations most often missed in
// the guide's examples for a few categories and markets. It is deliberately small; a rule
// belongs here only when the law plainly applies to every product of the category in the market.
var complianceRules = []complianceRule{
	{Name: "CPSIA", Categories: childrens, Market: "US", Keywords: []string{"cpsia", "cpsc", "children's product certificate"},
		Line:   "CPSIA (US) compliant: yes — CPSC-accepted lab test report and Children's Product Certificate",
		Why:    "Children's products sold in the US must be tested by a CPSC-accepted lab (lead, phthalates) and certified.",
		Source: "Consumer Product Safety Improvement Act of 2008 §§101–103; 16 CFR 1107 and 1110"},
	{Name: "ASTM F963", Categories: []Category{CategoryToys}, Market: "US", Keywords: []string{"astm f963", "f963", "16 cfr 1250"},
		Line:   "ASTM F963 (US toy safety) compliant: yes — CPSC-accepted lab test report",
		Why:    "Toys sold in the US must meet the ASTM F963 toy safety standard.",
		Source: "16 CFR 1250, which makes ASTM F963 a mandatory consumer product safety standard"},
	{Name: "Prop 65", Market: "US-CA", Keywords: []string{"prop 65", "prop. 65", "proposition 65"},
		Line:   "California Prop 65 compliant: yes — lab test report for listed chemicals (lead, phthalates), or a Prop 65 warning label",
		Why:    "Products sold in California that expose people to a listed chemical need a clear warning, or must be free of it.",
		Source: "California Health and Safety Code §§25249.5–25249.13; 27 CCR 25600 (applies to consumer products of any category)"},
	{Name: "REACH", Categories: []Category{CategoryChildrensApparel, CategoryToys, CategoryApparel, CategoryElectronics},
		Market: "EU", Keywords: []string{"reach", "1907/2006"},
		Line:   "REACH (EU) compliant: yes — test report for Annex XVII restricted substances and SVHC above 0.1%",
		Why:    "Articles sold in the EU must not contain restricted substances (azo dyes, nickel, phthalates) and must declare SVHC above 0.1%.",
		Source: "Regulation (EC) No 1907/2006 (REACH), Article 33 and Annex XVII"},
	{Name: "EN 71", Categories: []Category{CategoryToys}, Market: "EU", Keywords: []string{"en 71", "en71", "2009/48"},
		Line:   "EN 71-1/-2/-3 (EU toy safety) compliant: yes — notified-body or accredited lab test report",
		Why:    "Toys sold in the EU must meet the Toy Safety Directive, shown by the EN 71 harmonised standards.",
		Source: "Directive 2009/48/EC on the safety of toys; EN 71 harmonised standards"},
	{Name: "CE", Categories: []Category{CategoryToys}, Market: "EU", Keywords: []string{"ce"},
		Line:   "CE marked: yes — EU declaration of conformity and technical file",
		Why:    "Toys sold in the EU must carry the CE mark.",
		Source: "Directive 2009/48/EC, Articles 15–17"},
	{Name: "UKCA", Categories: []Category{CategoryToys}, Market: "UK", Keywords: []string{"ukca", "ce"},
		Line:   "UKCA (or CE) marked: yes — UK declaration of conformity",
		Why:    "Toys sold in Great Britain must carry the UKCA mark (the CE mark is still accepted).",
		Source: "Toys (Safety) Regulations 2011 (UK), as amended"},
	{Name: "CE", Categories: []Category{CategoryElectronics}, Market: "EU", Keywords: []string{"ce"},
		Line:   "CE marked: yes — EU declaration of conformity (EMC 2014/30/EU, LVD 2014/35/EU)",
		Why:    "Electrical equipment sold in the EU must carry the CE mark under the EMC and Low Voltage directives.",
		Source: "Directives 2014/30/EU (EMC) and 2014/35/EU (LVD)"},
	{Name: "RoHS", Categories: []Category{CategoryElectronics}, Market: "EU", Keywords: []string{"rohs", "2011/65"},
		Line:   "RoHS (EU) compliant: yes — test report for the 10 restricted substances",
		Why:    "Electrical equipment sold in the EU must not exceed the RoHS limits for lead, mercury, cadmium and others.",
		Source: "Directive 2011/65/EU (RoHS) and (EU) 2015/863"},
	{Name: "WEEE", Categories: []Category{CategoryElectronics}, Market: "EU", Keywords: []string{"weee", "2012/19"},
		Line:   "WEEE (EU) marking: yes — crossed-out wheelie bin symbol on product",
		Why:    "Electrical equipment sold in the EU must carry the WEEE take-back symbol.",
		Source: "Directive 2012/19/EU (WEEE), Article 14"},
	{Name: "FCC", Categories: []Category{CategoryElectronics}, Market: "US", Keywords: []string{"fcc", "47 cfr"},
		Line:   "FCC Part 15 (US) compliant: yes — test report and FCC ID or Supplier's Declaration of Conformity",
		Why:    "Electronic devices sold in the US must meet the FCC limits on radio-frequency emissions.",
		Source: "47 CFR Part 15"},
	{Name: "EC 1223/2009", Categories: []Category{CategoryCosmetics}, Market: "EU",
		Keywords: []string{"1223/2009", "cosmetics regulation", "cpnp"},
		Line:     "EU Cosmetics Regulation (EC) 1223/2009 compliant: yes — safety report and CPNP notification",
		Why:      "Cosmetics sold in the EU need a safety assessment, a responsible person and a CPNP notification.",
		Source:   "Regulation (EC) No 1223/2009 on cosmetic products"},
	{Name: "EC 1935/2004", Categories: []Category{CategoryFoodContact}, Market: "EU",
		Keywords: []string{"1935/2004", "food contact regulation"},
		Line:     "EU food contact (EC) 1935/2004 compliant: yes — declaration of compliance and migration test report",
		Why:      "Materials that touch food in the EU must not transfer their constituents to food in harmful amounts.",
		Source:   "Regulation (EC) No 1935/2004 on food contact materials"},
	{Name: "FDA 21 CFR", Categories: []Category{CategoryFoodContact}, Market: "US", Keywords: []string{"fda", "21 cfr"},
		Line:   "FDA 21 CFR 174–186 (US food contact) compliant: yes — migration test report",
		Why:    "Materials that touch food in the US must be made of substances the FDA allows for food contact.",
		Source: "21 CFR Parts 174–186 (indirect food additives)"},
}

// eeaMembers are the countries where EU product law applies: the 27 members and the EEA.
var eeaMembers = strings.Fields("AT BE BG HR CY CZ DK EE FI FR DE GR IE IT LV LT LU MT NL PL PT RO SK SI ES SE IS LI NO")

// applies says whether the rule covers a category and market.
func (r complianceRule) applies(cat Category, m Market) bool {
	if r.Categories != nil && !slices.Contains(r.Categories, cat) {
		return false
	}
	country, region := strings.ToUpper(strings.TrimSpace(m.Country)), strings.ToUpper(strings.TrimSpace(m.Region))
	if country == "" {
		country, _, _ = strings.Cut(region, "-")
	}
	switch r.Market {
	case "EU":
		return country == "EU" || slices.Contains(eeaMembers, country)
	case "UK":
		return country == "GB" || country == "UK"
	}
	if strings.Contains(r.Market, "-") {
		return region == r.Market
	}
	return country == r.Market
}

// met says whether some requirement of the contract mentions the rule and does not answer no.
func (r complianceRule) met(c trade.Contract) bool {
	for _, req := range slices.Concat(c.Compliance, c.Quality) {
		text := req.Attribute + " " + req.Requirement + " " + req.Method
		for _, k := range r.Keywords {
			if ruleKeywords[k].MatchString(text) && !negativeRe.MatchString(req.Requirement) {
				return true
			}
		}
	}
	return false
}

// ruleKeywords matches each keyword of the table as whole words, in any case: "CE" is not "price".
var ruleKeywords = func() map[string]*regexp.Regexp {
	res := map[string]*regexp.Regexp{}
	for _, r := range complianceRules {
		for _, k := range r.Keywords {
			res[k] = regexp.MustCompile(`(?i)(?:^|[^\p{L}\p{N}])` + regexp.QuoteMeta(k) + `(?:$|[^\p{L}\p{N}])`)
		}
	}
	return res
}()

// missingCompliance flags each rule that applies to the category and one of the markets and
// that no requirement meets.
func missingCompliance(in LintInput, c trade.Contract) []rankedFinding {
	cat := Category(strings.ToLower(strings.TrimSpace(string(in.Category))))
	var out []rankedFinding
	for i, rule := range complianceRules {
		if !slices.ContainsFunc(in.Markets, func(m Market) bool { return rule.applies(cat, m) }) || rule.met(c) {
			continue
		}
		out = append(out, rankedFinding{index: i, Finding: Finding{
			Severity:  SeverityWarning,
			Code:      CodeComplianceMissing,
			Field:     "compliance_requirements",
			Attribute: rule.Name,
			Explanation: fmt.Sprintf("%s The contract has no %s requirement, so goods that fail it could not be "+
				"refused against the contract.", rule.Why, rule.Name),
			Suggestion: rule.Line,
		}})
	}
	return out
}
