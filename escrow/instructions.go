package escrow

import (
	"fmt"
	"time"

	"github.com/tradeassure/tradeassure/fault"
	"github.com/tradeassure/tradeassure/money"
	"github.com/tradeassure/tradeassure/payment"
	"github.com/tradeassure/tradeassure/trade"
)

// Sandbox returns the sandbox rail's configuration: with Enabled, payments are simulated and
// every adapter must say so to the people and programs it serves.
func (s *Service) Sandbox() Sandbox { return s.sbx }

// CollectionAccount is the account a buyer pays into by m in c, which the payment instructions
// name (R8): the sandbox's own while the sandbox rail is on, else the platform's configured
// account. Without one the method is not offered in c (method_not_offered). Pay Later has
// none: the lender pays.
func (s *Service) CollectionAccount(m payment.Method, c money.Currency) (payment.CollectionAccount, error) {
	info, err := payment.Info(m)
	if err != nil {
		return payment.CollectionAccount{}, err
	}
	if m == payment.PayLater {
		return payment.CollectionAccount{}, fault.FieldErr("method", "account_not_needed", "the lender pays Pay Later into escrow")
	}
	if s.sbx.Enabled {
		return sandboxAccount(m, c, s.sbx.Delay), nil
	}
	if a, ok := s.accts.For(m, c); ok {
		return a, nil
	}
	return payment.CollectionAccount{}, fault.FieldErr("method", "method_not_offered",
		"the platform has no account to receive %s in %s, so it does not take that method in that currency", info.Name, c)
}

// sandboxAccount is what the sandbox's instructions name: no account, and it says so.
func sandboxAccount(m payment.Method, c money.Currency, delay time.Duration) payment.CollectionAccount {
	return payment.CollectionAccount{Method: m, Currency: c, Sandbox: true, Beneficiary: "tradeassure sandbox",
		Bank: "Sandbox rail (simulated: no bank, no real account)", Number: "SANDBOX",
		Note: "Sandbox: payments are simulated, no real money moves. The sandbox delivers this payment by itself " +
			"after " + humanDuration(delay) + "."}
}

// humanDuration writes d for people: "1 minute", "2 hours", else Go's notation.
func humanDuration(d time.Duration) string {
	plural := func(n int64, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	switch {
	case d > 0 && d%time.Hour == 0:
		return plural(int64(d/time.Hour), "hour")
	case d > 0 && d%time.Minute == 0:
		return plural(int64(d/time.Minute), "minute")
	case d > 0 && d%time.Second == 0:
		return plural(int64(d/time.Second), "second")
	}
	return d.String()
}

// payTo names on a payment command the account the buyer pays into (R8). When the platform has
// none for the method and currency it returns the refusal separately, for the caller to give
// only if the domain accepts the command: the domain's refusals (who may pay, what is due,
// which methods take the currency) say more.
func (s *Service) payTo(o *trade.Order, cmd trade.Command) (trade.Command, error) {
	p, ok := cmd.(trade.Pay)
	if !ok || p.Method == payment.PayLater {
		return cmd, nil
	}
	a, err := s.CollectionAccount(p.Method, o.Currency)
	if err != nil {
		return cmd, err
	}
	p.PayTo = &a
	return p, nil
}
