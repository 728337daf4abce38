package odoo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/influencegen/influencegen/app"
)

// ServerError is what Odoo said, in either protocol's shape: JSON-2 puts
// {name, message} in the body of a 4xx/5xx answer, JSON-RPC puts it under
// error.data of an HTTP 200. It is kept as the cause of the app error; its
// debug traceback is never shown to a person.
type ServerError struct {
	Status  int    // HTTP status (200 for JSON-RPC errors)
	Name    string // e.g. odoo.exceptions.ValidationError, werkzeug.exceptions.NotFound
	Message string
}

func (e *ServerError) Error() string {
	if e.Name == "" {
		return fmt.Sprintf("HTTP %d: %s", e.Status, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.Name, e.Message)
}

// call describes the RPC an error belongs to, for the message.
type call struct {
	model, method string
}

// identity names who we are to Odoo, for the odoo_auth message.
type identity struct {
	user, database string
}

func (id identity) describe() string {
	user := id.user
	if user == "" {
		user = "(the key's owner)"
	}
	db := id.database
	if db == "" {
		db = "(the server's default)"
	}
	return fmt.Sprintf("user %s on database %s", user, db)
}

// mapServerError turns what Odoo said into an app error with a reason; the
// two protocols meet here so the sync worker sees one vocabulary.
func mapServerError(se *ServerError, c call, who identity) error {
	name, msg := se.Name, strings.TrimSpace(se.Message)
	switch {
	case name == "odoo.exceptions.AccessDenied" || se.Status == http.StatusUnauthorized ||
		name == "werkzeug.exceptions.Unauthorized":
		return &app.Error{Code: app.EUNAUTHORIZED, Reason: app.ReasonOdooAuth, Err: se, Message: fmt.Sprintf(
			"Odoo rejected the API key for %s: create a key in Odoo (avatar → My Preferences → Account Security → New API Key), "+
				"store it with `influencegen secrets set odoo-api-key`, then run `influencegen sync retry`", who.describe())}
	case modelMissing(se):
		return &app.Error{Code: app.ENOTCONFIGURED, Reason: app.ReasonOdooModelMissing, Err: se, Message: fmt.Sprintf(
			"Odoo has no model %s: install the influence_gen_ai_integration addon (odoo/addon) or set odoo.request_model / odoo.image_model, "+
				"then run `influencegen sync retry`", c.model)}
	case name == "odoo.exceptions.AccessError" || se.Status == http.StatusForbidden:
		return &app.Error{Code: app.EUNAUTHORIZED, Reason: app.ReasonOdooAccess, Err: se, Message: fmt.Sprintf(
			"Odoo refused %s on %s for %s: %s (give the user the Internal User group, or Settings access for system parameters, then run `influencegen sync retry`)",
			c.method, c.model, who.describe(), firstLine(msg))}
	case name == "odoo.exceptions.MissingError":
		return &app.Error{Code: app.ENOTFOUND, Reason: app.ReasonOdooRecordGone, Err: se, Message: fmt.Sprintf(
			"Odoo record of %s is gone (deleted in Odoo?): %s", c.model, firstLine(msg))}
	case strings.HasPrefix(name, "builtins."):
		// A Python error (ValueError "Invalid field", TypeError) answers 500
		// in JSON-2 but will fail the same way every time: usually an addon
		// older than this app. Retrying cannot help.
		return &app.Error{Code: app.EINTERNAL, Reason: app.ReasonOdooError, Err: se, Message: fmt.Sprintf(
			"Odoo failed on %s %s: %s (is the influence_gen_ai_integration addon up to date?)", c.model, c.method, firstLine(msg))}
	case transientName(name) || se.Status == http.StatusTooManyRequests || se.Status >= 500:
		return &app.Error{Code: app.EUNAVAILABLE, Reason: app.ReasonOdooUnavailable, Err: se, Message: fmt.Sprintf(
			"Odoo is unavailable (%s %s answered %s); will retry", c.model, c.method, shortStatus(se))}
	case name == "odoo.exceptions.ValidationError" || name == "odoo.exceptions.UserError" ||
		se.Status == http.StatusUnprocessableEntity:
		return &app.Error{Code: app.EINVALID, Reason: app.ReasonOdooValidation, Err: se, Message: fmt.Sprintf(
			"Odoo refused the values for %s %s: %s", c.model, c.method, firstLine(msg))}
	case se.Status == http.StatusNotFound || se.Status == http.StatusUnsupportedMediaType || se.Status == http.StatusBadRequest:
		return &app.Error{Code: app.EINVALID, Reason: app.ReasonOdooProtocol, Err: se, Message: fmt.Sprintf(
			"Odoo did not understand the call %s %s (HTTP %d: %s): check odoo.url and odoo.protocol", c.model, c.method, se.Status, firstLine(msg))}
	}
	return &app.Error{Code: app.EINTERNAL, Reason: app.ReasonOdooError, Err: se, Message: fmt.Sprintf(
		"Odoo failed on %s %s: %s", c.model, c.method, firstLine(msg))}
}

// modelMissing recognises "no such model" in both shapes: JSON-2 answers
// 404 "the model 'x' does not exist", JSON-RPC a UserError "Object x
// doesn't exist".
func modelMissing(se *ServerError) bool {
	m := strings.ToLower(se.Message)
	return (strings.HasPrefix(m, "object ") && strings.HasSuffix(strings.TrimSpace(m), "doesn't exist")) ||
		(strings.HasPrefix(m, "the model ") && strings.Contains(m, "does not exist"))
}

// transientName lists server-side exceptions that a later retry cures:
// database contention and lock timeouts.
func transientName(name string) bool {
	for _, n := range []string{"psycopg2.OperationalError", "psycopg2.errors.SerializationFailure",
		"psycopg2.errors.LockNotAvailable", "psycopg2.errors.DeadlockDetected", "odoo.exceptions.ConcurrencyError",
		"odoo.exceptions.LockError", "werkzeug.exceptions.ServiceUnavailable", "werkzeug.exceptions.TooManyRequests"} {
		if name == n {
			return true
		}
	}
	return false
}

// mapTransportError classifies failures below HTTP: all transient, since
// offline is a normal state for a laptop.
func mapTransportError(ctx context.Context, err error, baseURL string) error {
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return err // our own cancellation, not Odoo's fault
	}
	var netErr net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout()) {
		return &app.Error{Code: app.EUNAVAILABLE, Reason: app.ReasonOdooTimeout, Err: err,
			Message: fmt.Sprintf("Odoo at %s did not answer in time; will retry", baseURL)}
	}
	return &app.Error{Code: app.EUNAVAILABLE, Reason: app.ReasonOdooUnreachable, Err: err,
		Message: fmt.Sprintf("cannot reach Odoo at %s (%s); will retry", baseURL, transportCause(err))}
}

func transportCause(err error) string {
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Err != nil {
		return opErr.Err.Error()
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return "host not found"
	}
	return err.Error()
}

// Transient reports whether err is worth retrying later unchanged.
func Transient(err error) bool { return app.ErrorCode(err) == app.EUNAVAILABLE }

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

func shortStatus(se *ServerError) string {
	if se.Name != "" {
		return se.Name
	}
	return fmt.Sprintf("HTTP %d", se.Status)
}
