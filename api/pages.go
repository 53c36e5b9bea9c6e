package api

import (
	"github.com/tradeassure/tradeassure/access"
	"github.com/tradeassure/tradeassure/escrow"
	"github.com/tradeassure/tradeassure/trade"
)

// PageSizeDefault is the page size of a list when the request names none; PageSizeMax bounds it.
const PageSizeDefault = 50

// pageIn is the cursor and size of a list whose items are keyed by a string ID.
type pageIn struct {
	After string `query:"after" maxLength:"64" doc:"The next_cursor of the previous page."`
	Limit int    `query:"limit" minimum:"1" maximum:"100" default:"50" doc:"Items per page (at most 100)."`
}

// eventPage is a page of an order's audit log.
type eventPage struct {
	Items      []EventView `json:"items"`
	NextCursor int64       `json:"next_cursor,omitempty" doc:"Pass as ?after= for the next page; absent on the last page. A page may hold fewer than limit events (those your role may not read are passed over) and still have a next one."`
}

// messagePage is a page of an order's thread.
type messagePage struct {
	Items      []trade.Message `json:"items"`
	NextCursor string          `json:"next_cursor,omitempty" doc:"Pass as ?after= for the next page; absent on the last page."`
}

// supplierPage is a page of the supplier directory.
type supplierPage struct {
	Items      []SupplierView `json:"items"`
	NextCursor string         `json:"next_cursor,omitempty" doc:"Pass as ?after= for the next page; absent on the last page. A page may hold fewer than limit suppliers (ineligible ones are passed over) and still have a next one."`
}

// apiKeyPage is a page of an organization's API keys.
type apiKeyPage struct {
	Items      []access.APIKey `json:"items"`
	NextCursor string          `json:"next_cursor,omitempty" doc:"Pass as ?after= for the next page; absent on the last page."`
}

// endpointPage is a page of an organization's webhook endpoints.
type endpointPage struct {
	Items      []EndpointView `json:"items"`
	NextCursor string         `json:"next_cursor,omitempty" doc:"Pass as ?after= for the next page; absent on the last page."`
}

// suspensePage is a page of money held in suspense.
type suspensePage struct {
	Items      []escrow.SuspenseItem `json:"items"`
	NextCursor string                `json:"next_cursor,omitempty" doc:"Pass as ?after= for the next page; absent on the last page."`
}

// balancePage is a page of the balance table.
type balancePage struct {
	Items      []escrow.BalanceView `json:"items"`
	NextCursor string               `json:"next_cursor,omitempty" doc:"Pass as ?after= for the next page; absent on the last page."`
}
