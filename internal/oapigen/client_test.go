package oapigen

import (
	"context"
	"net/http"
	"testing"
)

// TestGeneratedClient ensures the generated client compiles and talks to the real server: an
// admin registers an organization and reads it back, and an error decodes as the problem the
// document describes.
func TestGeneratedClient(t *testing.T) {
	srv, token := server(t)
	ctx := context.Background()
	auth := WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
		r.Header.Set("Authorization", "Bearer "+token)
		return nil
	})
	c, err := NewClientWithResponses(srv.URL, auth)
	if err != nil {
		t.Fatal(err)
	}
	created, err := c.CreateOrgWithResponse(ctx, &CreateOrgParams{IdempotencyKey: "gen-1"},
		CreateOrgJSONRequestBody{Kind: "buyer", Name: "Generated Co", Country: "FR"})
	if err != nil || created.StatusCode() != http.StatusCreated || created.JSON201 == nil {
		t.Fatalf("create_org: %v %d %s", err, created.StatusCode(), created.Body)
	}
	got, err := c.GetOrgWithResponse(ctx, created.JSON201.Id)
	if err != nil || got.JSON200 == nil || got.JSON200.Name != "Generated Co" || got.JSON200.Kind != "buyer" {
		t.Fatalf("get_org: %v %s", err, got.Body)
	}
	missing, err := c.GetOrderWithResponse(ctx, "ord_nope")
	if err != nil || missing.StatusCode() != http.StatusNotFound || missing.ApplicationproblemJSONDefault == nil ||
		missing.ApplicationproblemJSONDefault.Reason != "order_not_found" {
		t.Fatalf("get_order of no order: %v %d %s", err, missing.StatusCode(), missing.Body)
	}
}
