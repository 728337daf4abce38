package store

import (
	"database/sql"
	"fmt"
	"time"
)

// timeLayout is fixed-width UTC with nanoseconds, so TEXT order is time
// order: "next_attempt_at <= ?" and ORDER BY work on the strings directly,
// and a human can still read the column in the sqlite3 shell.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

func fmtTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// fmtTimePtr gives NULL for nil so optional times stay NULL in the database.
func fmtTimePtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return fmtTime(*t)
}

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("stored time %q: %w", s, err)
	}
	return t, nil
}

func parseTimePtr(s sql.NullString) (*time.Time, error) {
	if !s.Valid {
		return nil, nil
	}
	t, err := parseTime(s.String)
	if err != nil {
		return nil, err
	}
	return &t, nil
}
