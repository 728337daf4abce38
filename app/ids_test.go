package app

import (
	"sort"
	"testing"
	"time"
)

func TestIDsSortByTimeAndStayMonotonicWithinAMillisecond(t *testing.T) {
	var src IDSource
	now := time.Date(2026, 11, 27, 13, 0, 0, 0, time.UTC)
	ids := make([]string, 0, 1000)
	for i := range 1000 {
		ids = append(ids, src.New(now.Add(time.Duration(i/100)*time.Millisecond)))
	}
	if !sort.StringsAreSorted(ids) {
		t.Fatal("ids made in order must sort in order")
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Fatalf("duplicate id %s", id)
		}
		seen[id] = true
		if !ValidID(id) {
			t.Fatalf("%s is not a valid id", id)
		}
	}
	// A clock that steps back must not break the order.
	later := src.New(now.Add(-time.Hour))
	if later <= ids[len(ids)-1] {
		t.Fatalf("id after a clock step back sorts before the previous one: %s <= %s", later, ids[len(ids)-1])
	}
}

func TestValidIDRejectsOtherStrings(t *testing.T) {
	for _, s := range []string{"", "42", "01JDX3V6Q6T7ZP3Y6N4B1K9S2", "01JDX3V6Q6T7ZP3Y6N4B1K9S2I", "81JDX3V6Q6T7ZP3Y6N4B1K9S2E"} {
		if ValidID(s) {
			t.Errorf("ValidID(%q) = true", s)
		}
	}
	if !ValidID("01JDX3V6Q6T7ZP3Y6N4B1K9S2E") {
		t.Error("the DESIGN example id should be valid")
	}
}
