package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/tradeassure/tradeassure/payment"
)

// AccountsFileMax bounds the size of a -collection-accounts file.
const AccountsFileMax = 1 << 20

// loadAccounts reads the platform's collection accounts from a JSON file: an array of
// payment.CollectionAccount, checked complete and unique per method and currency. An empty
// path is no accounts.
func loadAccounts(path string) (payment.CollectionAccounts, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("collection accounts: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, AccountsFileMax+1))
	if err != nil {
		return nil, fmt.Errorf("collection accounts: read %s: %w", path, err)
	}
	if len(b) > AccountsFileMax {
		return nil, fmt.Errorf("collection accounts: %s is larger than %d bytes", path, AccountsFileMax)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields() // a misspelt field would otherwise vanish from the instructions
	var as payment.CollectionAccounts
	if err := dec.Decode(&as); err != nil {
		return nil, fmt.Errorf("collection accounts: %s: want a JSON array of accounts: %w", path, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("collection accounts: %s: more after the array of accounts", path)
	}
	if err := as.Validate(); err != nil {
		return nil, fmt.Errorf("collection accounts: %s: %w", path, err)
	}
	return as, nil
}
