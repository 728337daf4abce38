package app

import (
	"errors"
	"fmt"
)

// Error kinds. The HTTP layer maps them to status codes, the CLI to exit
// codes and the UI shows Message. Reason carries the specific machine code
// (e.g. "n8n_auth", "image_unavailable") that is stored on a request and
// documented in the README's troubleshooting table.
const (
	EINVALID       = "invalid"
	ENOTFOUND      = "not_found"
	ECONFLICT      = "conflict"
	EUNAUTHORIZED  = "unauthorized"
	EUNAVAILABLE   = "unavailable"
	EINTERNAL      = "internal"
	ENOTCONFIGURED = "not_configured"
)

// Error is the one error type the domain speaks. Message is written for a
// person: what was wrong and how to fix it.
type Error struct {
	Code    string // one of the E* kinds
	Reason  string // specific machine code, optional (e.g. "n8n_auth")
	Field   string // the parameter at fault, optional (for inline form errors)
	Message string
	Err     error // the cause, kept for errors.Is/As and logs
}

func (e *Error) Error() string {
	msg := e.Message
	if e.Reason != "" && msg == "" {
		msg = e.Reason
	}
	if e.Err != nil && msg == "" {
		return e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an *Error with a formatted message. A %w verb keeps the cause.
func Errorf(code, format string, args ...any) *Error {
	err := fmt.Errorf(format, args...)
	return &Error{Code: code, Message: err.Error(), Err: errors.Unwrap(err)}
}

// ReasonErrorf builds an *Error that also carries a specific reason code.
func ReasonErrorf(code, reason, format string, args ...any) *Error {
	e := Errorf(code, format, args...)
	e.Reason = reason
	return e
}

// ErrorCode returns the kind of err, EINTERNAL for foreign errors and ""
// for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var ve *ValidationError
	if errors.As(err, &ve) {
		return EINVALID
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorReason returns the specific reason code of err, falling back to its kind.
func ErrorReason(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Reason != "" {
		return e.Reason
	}
	return ErrorCode(err)
}

// ErrorMessage returns the human message of err. Foreign errors are
// internal: their text may hold details not meant for users, so only a
// generic message is returned.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var ve *ValidationError
	if errors.As(err, &ve) {
		return ve.Error()
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Error()
	}
	return "internal error"
}

// FieldError is one rejected parameter, for inline display next to the field.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ValidationError lists every rejected parameter at once, so a form can mark
// all of them instead of making the user fix one at a time.
type ValidationError struct {
	Fields []FieldError
}

func (v *ValidationError) Error() string {
	switch len(v.Fields) {
	case 0:
		return "invalid parameters"
	case 1:
		return v.Fields[0].Message
	}
	msg := v.Fields[0].Message
	for _, f := range v.Fields[1:] {
		msg += "; " + f.Message
	}
	return msg
}

// For returns the message for one field, or "".
func (v *ValidationError) For(field string) string {
	for _, f := range v.Fields {
		if f.Field == field {
			return f.Message
		}
	}
	return ""
}
