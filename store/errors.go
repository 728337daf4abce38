package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/influencegen/influencegen/app"
)

// Sentinels for callers that need to branch on a storage condition. Mapped
// errors wrap them, so errors.Is works through the *app.Error.
var (
	// ErrBusy: another process held the write lock past busy_timeout.
	ErrBusy = errors.New("database is busy")
	// ErrClosed: the store was closed while the call waited.
	ErrClosed = errors.New("store is closed")
)

// Reason codes carried by mapped errors (app.ErrorReason).
const (
	ReasonBusy      = "db_busy"
	ReasonDuplicate = "duplicate"
	ReasonMissing   = "missing_reference"
	ReasonCheck     = "constraint"
	ReasonClosed    = "store_closed"
)

// mapError is the one place where driver errors become app errors, so no
// other file inspects SQLite result codes. op names what was being done
// ("create requests"); it goes into the message so a person knows which
// action failed. App errors and context errors pass through unchanged:
// the first already speak the domain, the second must stay recognisable to
// errors.Is(err, context.Canceled).
func mapError(op string, err error) error {
	if err == nil {
		return nil
	}
	var ae *app.Error
	if errors.As(err, &ae) {
		return err
	}
	var ve *app.ValidationError
	if errors.As(err, &ve) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if errors.Is(err, ErrClosed) {
		return &app.Error{Code: app.EUNAVAILABLE, Reason: ReasonClosed,
			Message: op + ": the database is closed (the program is shutting down)", Err: err}
	}
	if errors.Is(err, sql.ErrNoRows) {
		return &app.Error{Code: app.ENOTFOUND, Message: op + ": not found", Err: err}
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		code := se.Code()
		switch code & 0xff { // primary result code; extended codes are on
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return &app.Error{Code: app.EUNAVAILABLE, Reason: ReasonBusy,
				Message: op + ": the database is busy (another influencegen process is writing); try again in a moment",
				Err:     fmt.Errorf("%w: %w", ErrBusy, err)}
		case sqlite3.SQLITE_CONSTRAINT:
			switch code {
			case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
				return &app.Error{Code: app.ECONFLICT, Reason: ReasonDuplicate,
					Message: op + ": it already exists", Err: err}
			case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
				return &app.Error{Code: app.ENOTFOUND, Reason: ReasonMissing,
					Message: op + ": it refers to a request that does not exist (deleted?)", Err: err}
			case sqlite3.SQLITE_CONSTRAINT_CHECK, sqlite3.SQLITE_CONSTRAINT_NOTNULL, sqlite3.SQLITE_CONSTRAINT_DATATYPE:
				return &app.Error{Code: app.EINVALID, Reason: ReasonCheck,
					Message: op + ": a value is out of range (" + se.Error() + ")", Err: err}
			}
		case sqlite3.SQLITE_FULL:
			return &app.Error{Code: app.EUNAVAILABLE,
				Message: op + ": the disk is full; free some space and try again", Err: err}
		case sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM:
			return &app.Error{Code: app.EUNAVAILABLE,
				Message: op + ": cannot write the database file; check its permissions and free space", Err: err}
		case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
			return &app.Error{Code: app.EINTERNAL,
				Message: op + ": the database file is damaged; run `influencegen doctor`", Err: err}
		}
	}
	return &app.Error{Code: app.EINTERNAL, Message: op + ": database error", Err: err}
}

// notFound names the request that is missing.
func notFound(what, id string) error {
	return app.Errorf(app.ENOTFOUND, "%s %s not found", what, id)
}
