// Package railtest gives tests the collection accounts a platform without the sandbox rail
// needs before buyers can pay (R8): one complete account for every method and currency the
// catalog offers. The accounts are fictional (example.test addresses, TEST codes); only tests
// use them.
package railtest

import (
	"fmt"

	"github.com/tradeassure/tradeassure/payment"
)

// Accounts returns one valid collection account per method and currency, Pay Later aside (the
// lender pays it).
func Accounts() payment.CollectionAccounts {
	var out payment.CollectionAccounts
	for _, mi := range payment.Catalog() {
		if mi.Method == payment.PayLater {
			continue
		}
		for _, c := range mi.Currencies {
			out = append(out, payment.CollectionAccount{Method: mi.Method, Currency: c,
				Beneficiary: "Test Trade Assurance Collections", Bank: "Test Bank, 1 Test Street, Testville",
				BIC: "TESTUS33", Number: fmt.Sprintf("TEST-%s-%s", mi.Method, c), RoutingCode: "000000000",
				URL: "https://pay.example.test/" + string(mi.Method), Note: "Receiver in Testville, Testland"})
		}
	}
	if err := out.Validate(); err != nil {
		panic(fmt.Sprintf("railtest accounts: %v", err)) // a bug in this file
	}
	return out
}
