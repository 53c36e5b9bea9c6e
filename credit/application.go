package credit

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/money"
)

// Limits on what an application may hold.
const (
	LinkedAccountsMax = 10  // business checking plus accounting, marketplace and PSP accounts
	NameMax           = 200 // legal names, owner names, institutions (characters)
	TitleMax          = 100 // the owner's title
	ConsentVersionMax = 40  // the consent text's version label
	ownerAgeMin       = 18  // an owner signs the agreement
	birthYearMin      = 1900
)

// Channel is where the buyer applied (R11: at checkout or in advance).
type Channel string

// The channels.
const (
	AtCheckout Channel = "checkout"
	InAdvance  Channel = "in_advance"
)

// ApplicationStatus is where an application is.
type ApplicationStatus string

// The statuses: submitted, then one decision.
const (
	Submitted             ApplicationStatus = "submitted"
	Approved              ApplicationStatus = "approved"                // with a limit
	Declined              ApplicationStatus = "declined"                // with reasons
	MoreInformationNeeded ApplicationStatus = "more_information_needed" // with what is missing
)

// AccountKind is the kind of an account the buyer links (R11: business checking and other
// online accounts).
type AccountKind string

// The kinds of linked account.
const (
	BusinessChecking AccountKind = "business_checking" // required: repayments are debited from it
	Accounting       AccountKind = "accounting"        // e.g. bookkeeping software
	Marketplace      AccountKind = "marketplace"       // e.g. a seller account
	PSP              AccountKind = "psp"               // a payment service provider
)

// AccountKinds lists every kind of linked account.
var AccountKinds = []AccountKind{BusinessChecking, Accounting, Marketplace, PSP}

// Last4 is the masked form of an identifier (EIN, SSN, account number): its last four digits,
// and nothing else. Full identifiers never enter the domain's state; use MaskDigits at the edge.
type Last4 string

// String shows the mask as people see it: "••••6789"; "" when not given.
func (l Last4) String() string {
	if l == "" {
		return ""
	}
	return "••••" + string(l)
}

// Valid reports whether l is exactly four ASCII digits.
func (l Last4) Valid() bool { return len(l) == 4 && digitsOnly(string(l)) }

// MaskDigits reads an identifier of digitsMin..digitsMax digits — spaces and hyphens allowed
// between them, as in "12-3456789" — and returns only its last four digits. It is how an
// adapter turns a full EIN (9 digits) or account number (4–17 digits) into what is stored.
func MaskDigits(field, s string, digitsMin, digitsMax int) (Last4, error) {
	digits := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, s)
	if !digitsOnly(digits) || len(digits) < max(4, digitsMin) || len(digits) > digitsMax {
		return "", fault.FieldErr(field, "invalid_identifier", "expected %d to %d digits", max(4, digitsMin), digitsMax)
	}
	return Last4(digits[len(digits)-4:]), nil
}

func digitsOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Business is what the lender needs to know about the applying business. Fields the
// underwriting needs but may be missing at first (Established, AnnualRevenue, EIN) are
// optional here: missing ones lead to a more_information_needed decision, not a refusal.
type Business struct {
	LegalName   string
	EINLast4    Last4         // the employer identification number, masked
	Country     string        // ISO 3166-1 alpha-2; only "US" qualifies (R11)
	State       string        // US state (two letters) where registered; "" outside the US
	Established time.Time     // the date the business started; zero: not given
	Revenue     *money.Amount // annual revenue, USD; nil: not given
}

// Owner is the business owner who applies. Only what identifies and qualifies them is kept: a
// name, an optional title, the birth year (not the date) and a masked SSN.
type Owner struct {
	Name      string
	Title     string
	BirthYear int   // 0: not given
	SSNLast4  Last4 // masked; "" not given
}

// LinkedAccount is an account the buyer links so the lender can underwrite and debit (R11).
// Stored as data, masked: the adapter keeps any access token elsewhere.
type LinkedAccount struct {
	Kind        AccountKind
	Institution string // the bank or provider
	Mask        Last4  // last four digits; required for business checking
}

// Consent is the owner's consent to the credit check and the automatic debits: that it was
// given, when, and to which version of the text.
type Consent struct {
	Given       bool
	At          time.Time
	TextVersion string
}

// Application is a request for a Pay Later credit line, made at checkout or in advance (R11).
type Application struct {
	ID          string
	BuyerID     string
	Channel     Channel
	OrderID     string // the order being paid, at checkout; "" in advance
	Business    Business
	Owner       Owner
	Accounts    []LinkedAccount
	Consent     Consent
	SubmittedAt time.Time
	Status      ApplicationStatus
	Decision    *Decision // set once decided; nil while submitted
	// EarlierDecisions are the requests for more information this application answered, oldest
	// first: supplying what was missing sends it back to the lender (Supplement).
	EarlierDecisions []Decision `json:",omitempty"`
}

// Supplement is what a buyer adds to an application the lender could not decide: the business's
// start date, its annual revenue, its EIN (masked). Fields left zero are not changed.
type Supplement struct {
	Established time.Time
	Revenue     *money.Amount
	EINLast4    Last4
}

// Supplement adds the missing information to an application that needs more (R11) and submits
// it again: the request for more information moves to EarlierDecisions and the lender decides
// anew. It is refused for an application in any other status (application_not_awaiting_information),
// when nothing is given (nothing_supplied), and for information that Validate would refuse.
func (a *Application) Supplement(s Supplement, now time.Time) error {
	if a.Status != MoreInformationNeeded || a.Decision == nil {
		return fault.New(fault.Conflict, "application_not_awaiting_information",
			"the application is %s: only one that needs more information can be completed", a.Status)
	}
	if s.Established.IsZero() && s.Revenue == nil && s.EINLast4 == "" {
		return fault.FieldErr("business", "nothing_supplied", "give the information the lender asked for")
	}
	b := a.Business
	if !s.Established.IsZero() {
		b.Established = s.Established
	}
	if s.Revenue != nil {
		r := *s.Revenue
		b.Revenue = &r
	}
	if s.EINLast4 != "" {
		b.EINLast4 = s.EINLast4
	}
	if err := b.validate(now); err != nil {
		return err
	}
	a.Business, a.EarlierDecisions = b, append(a.EarlierDecisions, *a.Decision)
	a.Decision, a.Status = nil, Submitted
	return nil
}

// Validate checks that the application is complete enough to decide on and well formed. It
// does not judge eligibility — a non-US business or a young one is declined by Underwrite, with
// all its reasons at once — except for a revenue figure in another currency than USD.
func (a Application) Validate(now time.Time) error {
	if a.ID == "" || a.BuyerID == "" {
		return fault.FieldErr("buyer_id", "invalid_application", "an application needs an ID and a buyer")
	}
	switch a.Channel {
	case AtCheckout:
		if a.OrderID == "" {
			return fault.FieldErr("order_id", "order_required", "an application at checkout names the order")
		}
	case InAdvance:
	default:
		return fault.FieldErr("channel", "invalid_channel", "apply at checkout or in advance")
	}
	if err := a.Business.validate(now); err != nil {
		return err
	}
	if err := a.Owner.validate(now); err != nil {
		return err
	}
	if err := validAccounts(a.Accounts); err != nil {
		return err
	}
	return a.Consent.validate(now)
}

func (b Business) validate(now time.Time) error {
	switch {
	case !name(b.LegalName, NameMax):
		return fault.FieldErr("business.legal_name", "invalid_name", "give the legal name, at most %d characters", NameMax)
	case b.EINLast4 != "" && !b.EINLast4.Valid():
		return fault.FieldErr("business.ein_last4", "invalid_identifier", "keep only the last four digits of the EIN")
	case len(b.Country) != 2 || strings.ToUpper(b.Country) != b.Country || !letters(b.Country):
		return fault.FieldErr("business.country", "invalid_country", "give the country as two capital letters (ISO 3166-1)")
	case b.Country == Country && !slices.Contains(usStates, b.State):
		return fault.FieldErr("business.state", "invalid_state", "give the US state as two capital letters")
	case !b.Established.IsZero() && b.Established.After(now):
		return fault.FieldErr("business.established", "invalid_date", "the business cannot start in the future")
	}
	if b.Revenue != nil {
		if err := requireUSD("business.revenue", *b.Revenue); err != nil {
			return err
		}
		if b.Revenue.IsNegative() {
			return fault.FieldErr("business.revenue", ReasonInvalidAmount, "revenue cannot be negative")
		}
	}
	return nil
}

func (o Owner) validate(now time.Time) error {
	switch {
	case !name(o.Name, NameMax):
		return fault.FieldErr("owner.name", "invalid_name", "give the owner's name, at most %d characters", NameMax)
	case o.Title != "" && !name(o.Title, TitleMax):
		return fault.FieldErr("owner.title", "invalid_name", "the title has at most %d characters", TitleMax)
	case o.BirthYear != 0 && (o.BirthYear < birthYearMin || o.BirthYear > now.Year()-ownerAgeMin):
		return fault.FieldErr("owner.birth_year", "invalid_birth_year", "the owner must be at least %d", ownerAgeMin)
	case o.SSNLast4 != "" && !o.SSNLast4.Valid():
		return fault.FieldErr("owner.ssn_last4", "invalid_identifier", "keep only the last four digits of the SSN")
	}
	return nil
}

func validAccounts(as []LinkedAccount) error {
	if len(as) > LinkedAccountsMax {
		return fault.FieldErr("accounts", "too_many_accounts", "link at most %d accounts", LinkedAccountsMax)
	}
	checking := false
	for i, acc := range as {
		field := "accounts[" + strconv.Itoa(i) + "]"
		switch {
		case !slices.Contains(AccountKinds, acc.Kind):
			return fault.FieldErr(field+".kind", "invalid_account_kind", "an account is business_checking, accounting, marketplace or psp")
		case !name(acc.Institution, NameMax):
			return fault.FieldErr(field+".institution", "invalid_name", "name the institution, at most %d characters", NameMax)
		case acc.Mask != "" && !acc.Mask.Valid():
			return fault.FieldErr(field+".mask", "invalid_identifier", "keep only the last four digits of the account")
		case acc.Kind == BusinessChecking && acc.Mask == "":
			return fault.FieldErr(field+".mask", "invalid_identifier", "give the last four digits of the business checking account")
		}
		checking = checking || acc.Kind == BusinessChecking
	}
	if !checking {
		return fault.FieldErr("accounts", "business_checking_required",
			"link a business checking account: repayments are debited from it")
	}
	return nil
}

func (c Consent) validate(now time.Time) error {
	switch {
	case !c.Given:
		return fault.FieldErr("consent.given", "consent_required", "the owner must consent to the credit check and the automatic debits")
	case c.At.IsZero() || c.At.After(now):
		return fault.FieldErr("consent.at", "invalid_date", "record when consent was given")
	case !name(c.TextVersion, ConsentVersionMax):
		return fault.FieldErr("consent.text_version", "invalid_consent_version", "record which consent text was shown")
	}
	return nil
}

// name reports whether s is a non-blank single line of at most limit characters.
func name(s string, limit int) bool {
	if strings.TrimSpace(s) == "" || !utf8.ValidString(s) || utf8.RuneCountInString(s) > limit {
		return false
	}
	return !strings.ContainsAny(s, "\r\n\x00")
}

func letters(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// usStates are the 50 states and the District of Columbia (the lender serves all 50 states,
// rails.md §8.1 [S4]).
var usStates = []string{"AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL",
	"IN", "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ",
	"NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA",
	"WV", "WI", "WY"}
