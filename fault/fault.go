// Package fault is the one error type of the domain: a coarse Code that adapters map to a
// protocol status in exactly one place, a precise stable Reason that clients and tests assert
// on, and a message that is safe to show to a person.
package fault

import (
	"errors"
	"fmt"
)

// Code classifies an error for adapters (HTTP status, CLI exit code).
type Code string

// The codes. Keep this list short: the Reason carries the detail.
const (
	Invalid      Code = "invalid"      // the request itself is wrong; retrying it unchanged fails again
	NotFound     Code = "not_found"    // the resource does not exist or is not visible to the actor
	Conflict     Code = "conflict"     // the request is valid but the current state refuses it
	Forbidden    Code = "forbidden"    // the actor is known but may not do this
	Unauthorized Code = "unauthorized" // the actor is not known
	Internal     Code = "internal"     // a bug or an outage; never caused by input
)

// Error is a domain error.
type Error struct {
	Code    Code
	Reason  string // stable snake_case identifier, e.g. "shipping_deadline_passed"
	Message string // safe for people
	Field   string // the input field at fault, if any (dotted path, e.g. "line_items[2].quantity")
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s (%s)", e.Reason, e.Message, e.Field)
	}
	return fmt.Sprintf("%s: %s", e.Reason, e.Message)
}

// Is makes errors.Is match on Code and Reason, so tests can compare with a template.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	return (t.Code == "" || t.Code == e.Code) && (t.Reason == "" || t.Reason == e.Reason)
}

// New returns an error with the given code and reason; the message is formatted.
func New(code Code, reason, format string, args ...any) *Error {
	return &Error{Code: code, Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// Field returns an Invalid error about one input field.
func FieldErr(field, reason, format string, args ...any) *Error {
	return &Error{Code: Invalid, Reason: reason, Message: fmt.Sprintf(format, args...), Field: field}
}

// As returns the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}

// ReasonOf returns the Reason of err, or "" when err is not a domain error.
func ReasonOf(err error) string {
	if e, ok := As(err); ok {
		return e.Reason
	}
	return ""
}

// CodeOf returns the Code of err: Internal for any error that is not a domain error.
func CodeOf(err error) Code {
	if e, ok := As(err); ok {
		return e.Code
	}
	return Internal
}
