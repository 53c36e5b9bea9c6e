package trade

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/money"
)

// Limits on a purchase contract; each is enforced by Contract.Validate.
const (
	LineItemsMax    = 200
	RequirementsMax = 200
	AttachmentsMax  = 50
	TextMax         = 2000 // one description, requirement or note
	QuantityMax     = 1_000_000_000
	BasisPoints     = 10_000 // 100%
)

// Incoterms are the Incoterms 2020 rules a contract may name.
var Incoterms = []string{"EXW", "FCA", "CPT", "CIP", "DAP", "DPU", "DDP", "FAS", "FOB", "CFR", "CIF"}

// LineItem is one product line (R3).
type LineItem struct {
	Description string `json:"description"`
	Quantity    int64  `json:"quantity"`
	Unit        string `json:"unit"`       // "pcs", "kg", "m"
	UnitPrice   int64  `json:"unit_price"` // minor units of the contract currency
}

// Requirement is one quality or compliance requirement, structured so it can be checked (R5):
// "Fabric weight: 200 g/m² ± 5%, ISO 3801".
type Requirement struct {
	Attribute   string `json:"attribute"`           // "Fabric weight", "Zipper", "CPSIA compliant"
	Requirement string `json:"requirement"`         // "200", "YKK", "yes"
	Unit        string `json:"unit,omitempty"`      // "g/m²"
	Tolerance   string `json:"tolerance,omitempty"` // "± 5%"
	Method      string `json:"method,omitempty"`    // test method or standard: "ISO 3801"
}

// Attachment is a file referenced by the contract or a message: a design draft, a label, a
// dimension sheet. Ref points into the content-addressed blob store.
type Attachment struct {
	Name      string `json:"name"`
	Ref       string `json:"ref"` // "sha256:…"
	Size      int64  `json:"size"`
	MediaType string `json:"media_type"`
}

// PaymentTerms split the order value into an initial payment and the balance (R6).
type PaymentTerms struct {
	InitialBP int `json:"initial_bp"` // basis points of the total; 10000 = 100% up front
}

// Contract is the purchase contract: it covers the products only (R3).
type Contract struct {
	Currency    money.Currency `json:"currency"`
	Incoterm    string         `json:"incoterm"`
	ShipBy      time.Time      `json:"ship_by"` // a date (UTC midnight): the last day to ship
	Terms       PaymentTerms   `json:"payment_terms,omitzero" doc:"Default: 30% initial payment (R6)."`
	LineItems   []LineItem     `json:"line_items"`
	Quality     []Requirement  `json:"quality_requirements,omitempty"`
	Compliance  []Requirement  `json:"compliance_requirements,omitempty"`
	Attachments []Attachment   `json:"attachments,omitempty"`
	Notes       string         `json:"notes,omitempty"`
	// Category and Markets tell the specification linter which compliance rules apply (R5):
	// the product category (childrens_apparel, toys, electronics, apparel, cosmetics,
	// food_contact, general) and the markets the goods are sold in. Both are optional and left
	// out of the JSON when empty, so a contract without them keeps its hash.
	Category string   `json:"category,omitempty" maxLength:"64" doc:"Product category for the compliance rules: childrens_apparel, toys, electronics, apparel, cosmetics, food_contact, general."`
	Markets  []Market `json:"markets,omitempty" maxItems:"50" doc:"Destination markets, for the compliance rules (R5)."`
}

// Market is a destination market of the goods.
type Market struct {
	Country string `json:"country" doc:"ISO 3166-1 alpha-2, or EU for the Union as a whole."`
	Region  string `json:"region,omitempty" doc:"ISO 3166-2 subdivision, e.g. US-CA; optional."`
}

// MarketsMax bounds the destination markets of a contract; CategoryMax the category's length.
const (
	MarketsMax  = 50
	CategoryMax = 64
)

// SpecCheck is the specification linter's result on a drafted contract (R5). The platform
// computes it when the contract is proposed — it is never taken from a client — so it is shown
// before confirmation, and it is frozen with the confirmed version: the arbiter later sees what
// both parties were shown, and which requirements were too unclear to judge a dispute on (R19a).
type SpecCheck struct {
	// Unclear lists the attributes of the contract's requirements that the linter judged
	// unenforceable, spelled as in the contract.
	Unclear []string `json:"unclear"`
	// Findings is the linter's list of findings (quality.Finding), opaque to this package.
	Findings json.RawMessage `json:"findings"`
}

// clear says whether attribute is a requirement of c that the linter did not judge unclear: a
// dispute about it can be judged against the contract (R19a). Without a SpecCheck (a contract
// proposed before the linter ran), every requirement of the contract counts as clear.
func (c Contract) clear(lint *SpecCheck, attribute string) bool {
	if !slices.ContainsFunc(slices.Concat(c.Quality, c.Compliance), func(r Requirement) bool {
		return sameAttribute(r.Attribute, attribute)
	}) {
		return false
	}
	return lint == nil || !slices.ContainsFunc(lint.Unclear, func(u string) bool { return sameAttribute(u, attribute) })
}

// sameAttribute compares attribute names as people write them: any case, spaces trimmed and
// collapsed.
func sameAttribute(a, b string) bool {
	return strings.EqualFold(strings.Join(strings.Fields(a), " "), strings.Join(strings.Fields(b), " "))
}

// Total is the order value: the sum of quantity × unit price, overflow-checked.
func (c Contract) Total() (int64, error) {
	sum := money.Zero(c.Currency)
	for i, li := range c.LineItems {
		line, err := mulCheck(li.Quantity, li.UnitPrice)
		if err != nil {
			return 0, fault.FieldErr(fmt.Sprintf("line_items[%d]", i), "amount_overflow", "line total too large")
		}
		if sum, err = sum.Add(money.New(line, c.Currency)); err != nil {
			return 0, fault.FieldErr("line_items", "amount_overflow", "order total too large")
		}
	}
	return sum.Minor, nil
}

func mulCheck(a, b int64) (int64, error) {
	if a == 0 || b == 0 {
		return 0, nil
	}
	p := a * b
	if p/b != a || (a == -1 && b == -1<<63) || (b == -1 && a == -1<<63) {
		return 0, money.ErrOverflow
	}
	return p, nil
}

// Initial is the initial payment: total × InitialBP rounded half-up; the balance is the rest.
func (c Contract) Initial() (int64, error) {
	total, err := c.Total()
	if err != nil {
		return 0, err
	}
	a, err := money.New(total, c.Currency).MulRate(money.Rate(int64(c.Terms.InitialBP) * 100))
	if err != nil {
		return 0, fault.FieldErr("payment_terms", "amount_overflow", "order total too large")
	}
	if a.Minor == 0 && total > 0 { // R7: even the smallest order has an initial payment to start production
		return 1, nil
	}
	return a.Minor, nil
}

// Validate checks the contract's shape and limits. placedOn is the day the order was placed:
// the shipping date may not be before it.
func (c Contract) Validate(placedOn time.Time) error {
	if !c.Currency.Valid() {
		return fault.FieldErr("currency", "unknown_currency", "unknown currency %q", string(c.Currency))
	}
	if !slices.Contains(Incoterms, c.Incoterm) {
		return fault.FieldErr("incoterm", "invalid_incoterm", "incoterm must be one of %s", strings.Join(Incoterms, ", "))
	}
	if err := validShipBy(c.ShipBy, placedOn); err != nil {
		return err
	}
	if c.Terms.InitialBP < 1 || c.Terms.InitialBP > BasisPoints { // R6: a deposit, or 100% up front
		return fault.FieldErr("payment_terms.initial_bp", "invalid_payment_terms", "the initial payment must be 0.01%% to 100%%")
	}
	if len(c.LineItems) == 0 || len(c.LineItems) > LineItemsMax {
		return fault.FieldErr("line_items", "invalid_line_items", "a contract has 1 to %d line items", LineItemsMax)
	}
	for i, li := range c.LineItems {
		f := fmt.Sprintf("line_items[%d]", i)
		switch {
		case !text(li.Description, true):
			return fault.FieldErr(f+".description", "invalid_description", "describe the product in 1 to %d characters", TextMax)
		case li.Quantity <= 0 || li.Quantity > QuantityMax:
			return fault.FieldErr(f+".quantity", "invalid_quantity", "quantity must be 1 to %d", QuantityMax)
		case !text(li.Unit, true) || len(li.Unit) > 20:
			return fault.FieldErr(f+".unit", "invalid_unit", "give the unit, e.g. pcs or kg")
		case li.UnitPrice < 0:
			return fault.FieldErr(f+".unit_price", "negative_amount", "a price cannot be negative")
		}
	}
	total, err := c.Total()
	if err != nil {
		return err
	}
	if total <= 0 { // R7: no minimum order amount, but an order is worth something
		return fault.FieldErr("line_items", "amount_not_positive", "the order total must be more than zero")
	}
	if err := validRequirements("quality_requirements", c.Quality); err != nil {
		return err
	}
	if err := validRequirements("compliance_requirements", c.Compliance); err != nil {
		return err
	}
	if err := validMarkets(c.Category, c.Markets); err != nil {
		return err
	}
	return validAttachments("attachments", c.Attachments, AttachmentsMax, c.Notes)
}

// validMarkets checks the category and destination markets the linter reads.
func validMarkets(category string, ms []Market) error {
	if len([]rune(category)) > CategoryMax {
		return fault.FieldErr("category", "invalid_category", "a category has at most %d characters", CategoryMax)
	}
	if len(ms) > MarketsMax {
		return fault.FieldErr("markets", "too_many_markets", "at most %d markets", MarketsMax)
	}
	for i, m := range ms {
		f := fmt.Sprintf("markets[%d]", i)
		if len(m.Country) != 2 || !upperAlnum(m.Country, true) {
			return fault.FieldErr(f+".country", "invalid_market", "a market is a country code (ISO 3166-1 alpha-2, e.g. US) or EU")
		}
		if m.Region == "" {
			continue
		}
		sub, ok := strings.CutPrefix(m.Region, m.Country+"-")
		if !ok || len(sub) < 1 || len(sub) > 3 || !upperAlnum(sub, false) {
			return fault.FieldErr(f+".region", "invalid_market", "a region is an ISO 3166-2 code of the country, e.g. US-CA")
		}
	}
	return nil
}

// upperAlnum reports whether s is upper-case ASCII letters, and digits unless lettersOnly.
func upperAlnum(s string, lettersOnly bool) bool {
	for i := 0; i < len(s); i++ {
		letter, digit := s[i] >= 'A' && s[i] <= 'Z', s[i] >= '0' && s[i] <= '9'
		if !letter && (lettersOnly || !digit) {
			return false
		}
	}
	return true
}

func validShipBy(d, placedOn time.Time) error {
	if d.IsZero() || d.Hour() != 0 || d.Minute() != 0 || d.Second() != 0 || d.Nanosecond() != 0 || d.Location() != time.UTC {
		return fault.FieldErr("ship_by", "invalid_ship_by", "the shipping date must be a calendar date")
	}
	if d.Before(Day(placedOn)) {
		return fault.FieldErr("ship_by", "ship_by_in_past", "the shipping date cannot be in the past")
	}
	if d.After(Day(placedOn).AddDate(2, 0, 0)) {
		return fault.FieldErr("ship_by", "ship_by_too_far", "the shipping date must be within two years")
	}
	return nil
}

func validRequirements(field string, rs []Requirement) error {
	if len(rs) > RequirementsMax {
		return fault.FieldErr(field, "too_many_requirements", "at most %d requirements", RequirementsMax)
	}
	for i, r := range rs {
		f := fmt.Sprintf("%s[%d]", field, i)
		if !text(r.Attribute, true) {
			return fault.FieldErr(f+".attribute", "invalid_requirement", "name the attribute in 1 to %d characters", TextMax)
		}
		if !text(r.Requirement, true) {
			return fault.FieldErr(f+".requirement", "invalid_requirement", "state the requirement in 1 to %d characters", TextMax)
		}
		if !text(r.Unit, false) || !text(r.Tolerance, false) || !text(r.Method, false) {
			return fault.FieldErr(f, "invalid_requirement", "unit, tolerance and method have at most %d characters", TextMax)
		}
	}
	return nil
}

func validAttachments(field string, as []Attachment, max int, notes string) error {
	if len(as) > max {
		return fault.FieldErr(field, "too_many_attachments", "at most %d attachments", max)
	}
	if !text(notes, false) {
		return fault.FieldErr("notes", "invalid_notes", "notes have at most %d characters", TextMax)
	}
	for i, a := range as {
		f := fmt.Sprintf("%s[%d]", field, i)
		if !text(a.Name, true) || len(a.Name) > 255 {
			return fault.FieldErr(f+".name", "invalid_attachment", "name the attachment")
		}
		if !strings.HasPrefix(a.Ref, "sha256:") || len(a.Ref) != 71 {
			return fault.FieldErr(f+".ref", "invalid_attachment", "an attachment refers to stored content (sha256:…)")
		}
		if a.Size <= 0 {
			return fault.FieldErr(f+".size", "invalid_attachment", "an attachment has a size")
		}
	}
	return nil
}

func text(s string, required bool) bool {
	if required && strings.TrimSpace(s) == "" {
		return false
	}
	return len([]rune(s)) <= TextMax
}

// Hash is the SHA-256 of the contract's canonical JSON: what a confirmation freezes (R4).
func (c Contract) Hash() string {
	b, err := json.Marshal(c)
	if err != nil {
		panic(fmt.Sprintf("marshal contract: %v", err)) // only plain data: cannot fail
	}
	h := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(h[:])
}

// ContractVersion is a frozen, confirmed version of the contract (R4).
type ContractVersion struct {
	Version     int       `json:"version"`
	Contract    Contract  `json:"contract"`
	Hash        string    `json:"hash"`
	ProposedBy  string    `json:"proposed_by"` // organization ID
	ConfirmedBy string    `json:"confirmed_by"`
	ProposedAt  time.Time `json:"proposed_at"`
	ConfirmedAt time.Time `json:"confirmed_at"`
	// Lint is the specification check shown with the proposal, frozen with it (R5, R19a).
	Lint *SpecCheck `json:"lint,omitempty"`
}

// Proposal is a contract or amendment one party proposed and the other has not yet confirmed.
type Proposal struct {
	Contract   Contract  `json:"contract"`
	Hash       string    `json:"hash"`
	ProposedBy string    `json:"proposed_by"`
	ProposedAt time.Time `json:"proposed_at"`
	// Lint is the specification check of the proposed contract, shown before confirmation (R5).
	Lint *SpecCheck `json:"lint,omitempty"`
}

// Day truncates t to its UTC calendar date.
func Day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// unclearOf lists what a specification check found unclear, for event payloads: never nil.
func unclearOf(lint *SpecCheck) []string {
	if lint == nil || lint.Unclear == nil {
		return []string{}
	}
	return lint.Unclear
}
