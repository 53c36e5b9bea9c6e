package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/tradeassure/tradeassure/fault"
)

// ProblemTypeBase prefixes every problem's type URI; the reason completes it.
const ProblemTypeBase = "https://tradeassure.dev/problems/"

// Problem is an RFC 9457 problem document with a stable reason code.
type Problem struct {
	Type     string              `json:"type" doc:"A URI naming the problem: the problem base URI plus the reason."`
	Title    string              `json:"title" doc:"The HTTP status text."`
	Status   int                 `json:"status"`
	Detail   string              `json:"detail,omitempty" doc:"What went wrong, for a person."`
	Instance string              `json:"instance,omitempty"`
	Reason   string              `json:"reason" doc:"A stable snake_case code to branch on, e.g. shipping_deadline_passed."`
	Errors   []*huma.ErrorDetail `json:"errors,omitempty" doc:"The fields at fault, each with its location (body.field)."`
}

func (p *Problem) Error() string { return p.Reason + ": " + p.Detail }

// GetStatus is the HTTP status.
func (p *Problem) GetStatus() int { return p.Status }

// ContentType makes every problem application/problem+json.
func (p *Problem) ContentType(ct string) string {
	if ct == "application/json" {
		return "application/problem+json"
	}
	return ct
}

// statusOf maps a domain error code to its HTTP status: the one place this mapping lives.
func statusOf(c fault.Code, reason string) int {
	switch {
	case reason == "version_mismatch":
		return http.StatusPreconditionFailed
	case reason == "idempotency_key_reused":
		return http.StatusUnprocessableEntity // draft-ietf-httpapi-idempotency-key-header §2.7
	case reason == "file_too_large":
		return http.StatusRequestEntityTooLarge
	case reason == "media_type_not_allowed":
		return http.StatusUnsupportedMediaType
	case c == fault.Invalid:
		return http.StatusUnprocessableEntity
	case c == fault.NotFound:
		return http.StatusNotFound
	case c == fault.Conflict:
		return http.StatusConflict
	case c == fault.Forbidden:
		return http.StatusForbidden
	case c == fault.Unauthorized:
		return http.StatusUnauthorized
	}
	return http.StatusInternalServerError
}

// reasonOfStatus names the problems the framework raises itself.
func reasonOfStatus(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "bad_request"
	case http.StatusUnprocessableEntity:
		return "validation_failed"
	case http.StatusRequestEntityTooLarge:
		return "body_too_large"
	case http.StatusUnsupportedMediaType:
		return "unsupported_media_type"
	case http.StatusNotFound:
		return "not_found"
	case http.StatusMethodNotAllowed:
		return "method_not_allowed"
	case http.StatusNotAcceptable:
		return "not_acceptable"
	case http.StatusTooManyRequests:
		return "rate_limited"
	case http.StatusPreconditionFailed:
		return "version_mismatch"
	case http.StatusUnauthorized:
		return "unauthorized"
	}
	if status >= 500 {
		return "internal"
	}
	return strings.ReplaceAll(strings.ToLower(http.StatusText(status)), " ", "_")
}

func newProblem(status int, reason, detail string, errs ...*huma.ErrorDetail) *Problem {
	return &Problem{Type: ProblemTypeBase + reason, Title: http.StatusText(status), Status: status,
		Detail: detail, Reason: reason, Errors: errs}
}

// install makes huma build our problems for its own errors (validation, bad JSON, size).
func install() {
	huma.NewError = func(status int, msg string, errs ...error) huma.StatusError {
		reason := reasonOfStatus(status)
		var details []*huma.ErrorDetail
		for _, e := range errs {
			if e == nil {
				continue
			}
			var d huma.ErrorDetailer
			if errors.As(e, &d) {
				detail := d.ErrorDetail()
				// A decoding error that names its field (jsonFormat) is reported there.
				if loc, msg, ok := strings.Cut(strings.TrimPrefix(detail.Message, locationMark), ": "); ok &&
					detail.Location == "body" && strings.HasPrefix(detail.Message, locationMark+"body.") {
					detail = &huma.ErrorDetail{Location: loc, Message: msg}
				}
				details = append(details, detail)
			} else {
				details = append(details, &huma.ErrorDetail{Message: e.Error()})
			}
		}
		if status == http.StatusBadRequest && len(details) > 0 && strings.Contains(details[0].Message, "request body too large") {
			status, reason = http.StatusRequestEntityTooLarge, "body_too_large"
		}
		if status == http.StatusUnprocessableEntity {
			status, reason, msg = idempotencyKeyStatus(details, status, reason, msg)
		}
		if status >= 500 {
			msg = "an internal error occurred; it has been logged"
			details = nil
		}
		return newProblem(status, reason, msg, details...)
	}
}

// problemOf turns any error a handler returns into a problem. Errors that are not domain errors
// are internal: their text is logged by the caller, never shown.
func problemOf(err error) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	e, ok := fault.As(err)
	if !ok {
		return newProblem(http.StatusInternalServerError, "internal", "an internal error occurred; it has been logged")
	}
	status := statusOf(e.Code, e.Reason)
	var details []*huma.ErrorDetail
	if e.Field != "" {
		details = []*huma.ErrorDetail{{Location: "body." + e.Field, Message: e.Message}}
	}
	if status >= 500 {
		return newProblem(status, "internal", "an internal error occurred; it has been logged")
	}
	return newProblem(status, e.Reason, e.Message, details...)
}

func errorf(status int, reason, format string, args ...any) *Problem {
	return newProblem(status, reason, fmt.Sprintf(format, args...))
}

// IdempotencyKeyHeader is the request header that makes a POST safe to retry.
const IdempotencyKeyHeader = "Idempotency-Key"

// idempotencyKeyStatus makes a request whose Idempotency-Key is missing or malformed a 400, as
// draft-ietf-httpapi-idempotency-key-header §2.7 asks ("If the Idempotency-Key request header is
// missing for a documented idempotent operation requiring this header, the resource server
// SHOULD reply with an HTTP 400 status code"); a malformed key (over 255 characters) is a bad
// request the same way. Other validation errors of the same request stay in errors[].
func idempotencyKeyStatus(details []*huma.ErrorDetail, status int, reason, msg string) (int, string, string) {
	for _, d := range details {
		if d.Location != "header."+IdempotencyKeyHeader {
			continue
		}
		if strings.Contains(d.Message, "required") {
			return http.StatusBadRequest, "idempotency_key_missing", "send an Idempotency-Key header (1 to 255 characters) with every POST"
		}
		return http.StatusBadRequest, "idempotency_key_invalid", "an Idempotency-Key has 1 to 255 characters"
	}
	return status, reason, msg
}
