package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/influencegen/influencegen/store"
)

// Issue 11, item 5: status and doctor read; they must neither migrate nor
// wait for the write lock when the schema is current, so they work while
// another process (serve, a long sync) holds a long write transaction.
func TestStatusAndDoctorWorkWhileAnotherProcessHoldsTheWriteLock(t *testing.T) {
	home := t.TempDir()
	t.Setenv("INFLUENCEGEN_HOME", home)
	t.Setenv("INFLUENCEGEN_PROFILE", "readonly")
	t.Setenv("INFLUENCEGEN_CALLBACK_TOKEN", "readonly-token")
	t.Setenv("INFLUENCEGEN_N8N_API_KEY", "test-api-key")
	if code, out, errOut := runCLI(context.Background(), "status"); code != 0 { // creates and migrates the file
		t.Fatalf("first status exited %d: %s %s", code, out, errOut)
	}

	holder, err := sql.Open("sqlite", filepath.Join(home, store.FileName)+"?_txlock=immediate&_pragma=busy_timeout(100)")
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	tx, err := holder.Begin() // BEGIN IMMEDIATE: the write lock, held for the rest of the test
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck
	if _, err := tx.Exec("INSERT INTO settings (key, value, updated_at) VALUES ('held', 'by another process', '')"); err != nil {
		t.Fatal(err)
	}

	code, out, errOut := runCLI(context.Background(), "status", "--json")
	if code != 0 || !strings.Contains(out, `"counts"`) {
		t.Errorf("status under a held write lock exited %d: %s %s", code, out, errOut)
	}
	_, out, errOut = runCLI(context.Background(), "doctor", "--json")
	var report struct {
		Checks []struct{ Name, State, Detail string } `json:"checks"`
	}
	if err := json.Unmarshal([]byte(out), &report); err != nil {
		t.Fatalf("doctor --json: %v\n%s\n%s", err, out, errOut)
	}
	for _, c := range report.Checks {
		if (c.Name == "database" || c.Name == "image files") && c.State != "ok" {
			t.Errorf("doctor check %s: %s (%s)", c.Name, c.State, c.Detail)
		}
	}
}
