package quality

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"github.com/tradeassure/tradeassure/trade"
)

// vagueWords is the linter's vocabulary of words that cannot be measured, each with the reason
// shown to the user. The list is short on purpose: it holds the words buyers actually write
// instead of a specification ("good quality", "standard packaging", "as usual"), and a word
// only counts when the requirement has nothing measurable besides it ("ASTM F963 standard" is
// clear). Entries are lower case; phrases are two words.
var vagueWords = map[string]string{
	// Praise says how much someone will like the goods, not what to measure.
	"good": "praise", "high": "praise", "best": "praise", "premium": "praise", "nice": "praise",
	"excellent": "praise", "superior": "praise", "fine": "praise", "perfect": "praise",
	"beautiful": "praise", "top": "praise", "great": "praise", "luxury": "praise",
	"first class": "praise", "first-class": "praise", "aaa": "praise",
	// A norm nobody names: whose standard?
	"standard": "norm", "standards": "norm", "normal": "norm", "usual": "norm",
	"as usual": "norm", "regular": "norm", "typical": "norm", "conventional": "norm",
	// Judgement words leave pass or fail to whoever inspects.
	"acceptable": "judgement", "proper": "judgement", "reasonable": "judgement",
	"appropriate": "judgement", "suitable": "judgement", "satisfactory": "judgement",
	"adequate": "judgement", "ok": "judgement", "okay": "judgement",
	// The subject of the requirement, not a level of it.
	"quality": "subject",
	// A property without a level or a test.
	"durable": "property", "sturdy": "property",
	// Nothing agreed yet.
	"tbd": "open", "tba": "open",
}

var vagueReasons = map[string]string{
	"praise":    "%q is praise, not a measure",
	"norm":      "%q points to a norm without naming it",
	"judgement": "%q leaves pass or fail to whoever inspects",
	"subject":   "%q names what matters, not the level required",
	"property":  "%q names a property without a level or a test",
	"open":      "%q leaves it to be agreed later",
}

// notCodes are capitalised words that look like a code or brand but name none.
var notCodes = map[string]bool{"us": true, "usa": true, "eu": true, "uk": true, "na": true, "n/a": true}

var (
	wordRe      = regexp.MustCompile(`[\p{L}\p{N}]+(?:['’-][\p{L}\p{N}]+)*`)
	codeTokenRe = regexp.MustCompile(`[\p{L}\p{N}#][\p{L}\p{N}#/._-]*`)
	numberRe    = regexp.MustCompile(`^\d+(?:[.,]\d+)?$`)
	fileRefRe   = regexp.MustCompile(`(?i)[\p{L}\p{N}_][\p{L}\p{N}_.-]*\.(?:pdf|png|jpe?g|ai|psd|dwg|xlsx|docx|zip)\b`)
	yesNoRe     = regexp.MustCompile(`(?i)^\s*(?:yes|no|y|n|true|false|compliant|not compliant|required|not required)\b`)
	negativeRe  = regexp.MustCompile(`(?i)^\s*(?:no|n|false|none|n/a|not compliant|not required)\s*[.!]?\s*$`)
)

// vagueHits returns the vocabulary words in s, in order, once each. A hyphenated compound
// counts only when each part is in the vocabulary ("high-quality" but not "high-waisted").
func vagueHits(s string) []string {
	words := wordRe.FindAllString(strings.ToLower(s), -1)
	var hits []string
	add := func(w string) {
		for _, h := range hits {
			if h == w {
				return
			}
		}
		hits = append(hits, w)
	}
	for i, w := range words {
		if i+1 < len(words) && vagueWords[w+" "+words[i+1]] != "" {
			add(w + " " + words[i+1])
			continue
		}
		if vagueWords[w] != "" {
			add(w)
			continue
		}
		parts := strings.Split(w, "-")
		all := len(parts) > 1
		for _, p := range parts {
			all = all && vagueWords[p] != ""
		}
		if all {
			add(w)
		}
	}
	return hits
}

// namesCode says whether s names something an inspector can look up: a standard or regulation
// ("ISO 3801", "EN 71", "1223/2009"), a colour or part code ("Pantone 1935 C", "F963"), or a
// brand written as one ("YKK"). File names are left out: attachments are checked on their own.
func namesCode(s string) bool {
	s = fileRefRe.ReplaceAllString(s, " ")
	// In "GOOD QUALITY FABRIC" capitals are shouting, not an acronym.
	shouting := !strings.ContainsFunc(s, unicode.IsLower) && len(vagueHits(s)) > 0
	toks := codeTokenRe.FindAllString(s, -1)
	for i, t := range toks {
		t = strings.Trim(t, "#./_-")
		low := strings.ToLower(t)
		if t == "" || vagueWords[low] != "" || notCodes[low] {
			continue
		}
		var letters, uppers, digits int
		for _, r := range t {
			switch {
			case unicode.IsDigit(r):
				digits++
			case unicode.IsUpper(r):
				uppers++
				letters++
			case unicode.IsLetter(r):
				letters++
			}
		}
		switch {
		case letters > 0 && digits > 0: // F963, A12, GS-3
			return true
		case digits > 0 && strings.Contains(t, "/"): // 1223/2009
			return true
		case !shouting && uppers >= 2 && 2*uppers >= letters: // YKK, ISO, RoHS
			return true
		case letters >= 2 && digits == 0 && i+1 < len(toks) && numberRe.MatchString(strings.Trim(toks[i+1], "#./_-")):
			return true // Pantone 1935, Prop 65
		}
	}
	return false
}

// fileRefs returns the file names in s, in order.
func fileRefs(s string) []string {
	return fileRefRe.FindAllString(s, -1)
}

// refersToAttached says whether s names a file that is attached.
func refersToAttached(s string, attached map[string]bool) bool {
	for _, n := range fileRefs(s) {
		if attached[strings.ToLower(n)] {
			return true
		}
	}
	return false
}

// measurable says whether a requirement has content an inspector can check, besides any vague
// words: a measure, a named code, an attached file, or for compliance a yes/no answer about a
// named regulation.
func measurable(r trade.Requirement, compliance bool, attached map[string]bool) bool {
	if len(measures(r.Requirement)) > 0 || len(measures(r.Tolerance)) > 0 ||
		(bareNumber(r.Requirement) && strings.TrimSpace(r.Unit) != "") {
		return true
	}
	if namesCode(r.Requirement) || namesCode(r.Tolerance) || namesCode(r.Method) {
		return true
	}
	if refersToAttached(r.Requirement, attached) || refersToAttached(r.Method, attached) {
		return true
	}
	return compliance && yesNoRe.MatchString(r.Requirement) && namesCode(r.Attribute)
}

// vagueRequirement flags a requirement written in the vocabulary with nothing measurable, and a
// compliance requirement that names no regulation.
func vagueRequirement(r trade.Requirement, attr string, compliance bool, attached map[string]bool) (rankedFinding, bool) {
	text := r.Requirement
	if yesNoRe.MatchString(text) { // "Good quality: yes" — the claim is in the attribute
		text = r.Attribute + " " + text
	}
	hits := vagueHits(text)
	if len(hits) > 0 && !measurable(r, compliance, attached) {
		reasons := make([]string, len(hits))
		for i, h := range hits {
			reasons[i] = fmt.Sprintf(vagueReasons[vagueWords[h]], h)
		}
		return rankedFinding{Finding: Finding{
			Severity: SeverityError,
			Code:     CodeVagueRequirement,
			Explanation: fmt.Sprintf("%q cannot be measured: %s. An inspector cannot pass or fail goods against it, "+
				"so a dispute about %s would be judged by the inspection company's general industry standard, "+
				"not by this contract.", strings.TrimSpace(r.Requirement), strings.Join(reasons, "; "), attrName(attr)),
			Suggestion: attrLabel(attr) + exampleFor(attr),
		}}, true
	}
	if compliance && len(hits) == 0 && !namesCode(r.Attribute+" "+r.Requirement+" "+r.Method) &&
		!refersToAttached(r.Requirement+" "+r.Method, attached) {
		return rankedFinding{Finding: Finding{
			Severity: SeverityError,
			Code:     CodeVagueRequirement,
			Explanation: fmt.Sprintf("This compliance requirement names no regulation or standard, so nobody can test "+
				"the goods against it: %q.", strings.TrimSpace(attr+": "+r.Requirement)),
			Suggestion: "CPSIA (US) compliant: yes — CPSC-accepted lab test report (name the regulation and the proof)",
		}}, true
	}
	return rankedFinding{}, false
}

// unreferencedSample flags "as sample" when neither the requirement nor its method says which
// sample: a numbered or dated sample ("sample #A12", "golden sample ref GS-3") or an attached
// photo. Without it, each side can produce a different "sample" in a dispute.
func unreferencedSample(r trade.Requirement, attr string, attached map[string]bool) (rankedFinding, bool) {
	text := r.Requirement + " " + r.Method
	mentions := false
	for _, w := range wordRe.FindAllString(strings.ToLower(text), -1) {
		mentions = mentions || w == "sample" || w == "samples"
	}
	if !mentions || refersToAttached(text, attached) {
		return rankedFinding{}, false
	}
	rest := fileRefRe.ReplaceAllString(text, " ")
	rest = measureRe.ReplaceAllString(rest, " ")
	if strings.ContainsFunc(rest, unicode.IsDigit) {
		return rankedFinding{}, false
	}
	return rankedFinding{Finding: Finding{
		Severity: SeverityError,
		Code:     CodeSampleUnreferenced,
		Explanation: fmt.Sprintf("%q does not say which sample. Unless the sample is numbered and kept by both "+
			"parties, or photographed and attached, a dispute about %s cannot be settled against it.",
			strings.TrimSpace(r.Requirement), attrName(attr)),
		Suggestion: attrLabel(attr) + "Same as golden sample ref GS-1 (sealed and signed; one kept by each party), " +
			"photo in golden_sample_gs1.jpg (attached)",
	}}, true
}

// exampleFor returns a clear requirement for an attribute, chosen by the words in its name.
func exampleFor(attr string) string {
	a := strings.ToLower(attr)
	for _, e := range examples {
		for _, k := range e.keys {
			if strings.Contains(a, k) {
				return e.example
			}
		}
	}
	return "a measured value with unit and tolerance, a named standard or a brand, " +
		"e.g. \"200 gsm ± 5%\", \"ISO 3801\", \"YKK\""
}

var examples = []struct {
	keys    []string
	example string
}{
	{[]string{"colour", "color"}, "Pantone 1935 C, ΔE ≤ 1.0 under D65 light"},
	{[]string{"fabric", "material"}, "Organic cotton, 200 gsm ± 5% (ISO 3801)"},
	{[]string{"zip"}, "YKK #5 nylon coil zipper"},
	{[]string{"finish", "surface", "coating"}, "Matte, gloss ≤ 10 GU at 60° (ISO 2813); no scratches visible at 50 cm"},
	{[]string{"pack", "carton"}, "1 pc per polybag, 50 pcs per 5-ply export carton, carton ≤ 20 kg"},
	{[]string{"stitch", "seam", "sewing"}, "10–12 stitches per inch; seam strength ≥ 80 N (ISO 13935-2)"},
	{[]string{"label", "print", "logo", "design", "artwork"}, "As specified in artwork_v1.pdf (attached), Pantone 1935 C"},
	{[]string{"size", "dimension", "length", "width", "height"}, "50 cm ± 1 cm, measured flat (size chart in size_chart.pdf, attached)"},
	{[]string{"weight"}, "250 g ± 5 g"},
	{[]string{"quality", "workmanship", "defect", "appearance"}, "AQL 0 critical / 2.5 major / 4.0 minor per ISO 2859-1, general level II"},
}

func attrName(attr string) string {
	if attr == "" {
		return "it"
	}
	return fmt.Sprintf("%q", attr)
}

func attrLabel(attr string) string {
	if attr == "" {
		return ""
	}
	return attr + ": "
}
