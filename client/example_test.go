package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/tradeassure/tradeassure/client"
)

// The snippet of docs/api.md ("The Go client"): compiled here so that it keeps compiling. It
// needs a server, so it has no Output and is not run.
func Example() {
	ctx := context.Background()
	buyer := client.New(os.Getenv("TRADEASSURE_URL"), os.Getenv("TRADEASSURE_KEY"), nil)

	sups, err := buyer.Suppliers(ctx)
	if err != nil {
		log.Fatal(err)
	}
	// A key of your own makes the order safe to retry, even from another process after a crash.
	o, err := buyer.PlaceOrder(ctx, client.PlaceOrder{SupplierID: sups[0].ID, Currency: "USD",
		ShipBy: time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC), ComplianceConfirmed: true}, "checkout-4711")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("placed", o.ID, o.State, o.ETag)

	// Every order you may see, page after page.
	for o, err := range buyer.AllOrders(ctx, client.ListOrders{State: "draft"}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("draft", o.ID, o.ShipBy.Format(time.DateOnly))
	}

	// A refusal is a *client.Problem: branch on its Reason.
	_, err = buyer.Command(ctx, o.ID, "refund", nil, "")
	var p *client.Problem
	if errors.As(err, &p) && p.Reason == "transition_not_allowed" {
		fmt.Println(p.Status, p.Reason+":", p.Detail)
	}
	o, err = buyer.Cancel(ctx, o.ID, "placed by the docs", "")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("now", o.State)
}
