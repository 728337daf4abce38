package cli_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/influencegen/influencegen/n8n/n8ntest"
)

func TestStatusListsRecentRequestsAndShowsOneInFull(t *testing.T) {
	fake := n8ntest.New(t, n8ntest.Options{})
	r := newSendRig(t, fake.WebhookURL, "test-api-key")
	out, _, code := r.run(t, "generate", "--prompt", "a red fox in deep snow", "--negative", "blurry", "--seed", "7", "--count", "2", "--json")
	if code != 0 {
		t.Fatalf("generate exit %d", code)
	}
	ids := decodeResults(t, out)

	list, _, code := r.run(t, "status")
	if code != 0 || !strings.Contains(list, "processing 2") || !strings.Contains(list, ids[0].ID) ||
		!strings.Contains(list, "a red fox in deep snow") || !strings.Contains(list, "sdxl") {
		t.Errorf("status (exit %d):\n%s", code, list)
	}

	var doc struct {
		Counts   map[string]int `json:"counts"`
		Requests []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		} `json:"requests"`
	}
	js, _, _ := r.run(t, "status", "--json")
	if err := json.Unmarshal([]byte(js), &doc); err != nil || len(doc.Requests) != 2 || doc.Counts["processing"] != 2 {
		t.Errorf("status --json (%v):\n%s", err, js)
	}
	// Newest first.
	if len(doc.Requests) == 2 && doc.Requests[0].ID != ids[1].ID {
		t.Errorf("first listed %s, want the newest %s", doc.Requests[0].ID, ids[1].ID)
	}

	one, _, code := r.run(t, "status", ids[0].ID)
	t.Logf("status:\n%s\nstatus ID:\n%s", list, one)
	for _, want := range []string{ids[0].ID, "processing", "a red fox in deep snow", "blurry", "1024x1024 (1:1)", "seed", "7", "timeline", "created", "sent", "accepted"} {
		if !strings.Contains(one, want) {
			t.Errorf("status ID lacks %q (exit %d):\n%s", want, code, one)
		}
	}
	var detail struct {
		Request struct {
			ID string `json:"id"`
		} `json:"request"`
		Timeline []struct {
			Kind string `json:"kind"`
		} `json:"timeline"`
		Images []any `json:"images"`
	}
	dj, _, _ := r.run(t, "status", ids[0].ID, "--json")
	if err := json.Unmarshal([]byte(dj), &detail); err != nil || detail.Request.ID != ids[0].ID || len(detail.Timeline) != 3 ||
		detail.Timeline[0].Kind != "created" || detail.Images == nil {
		t.Errorf("status ID --json (%v):\n%s", err, dj)
	}
}

func TestStatusOfAnUnknownIDFails(t *testing.T) {
	r := newSendRig(t, "", "")
	_, errOut, code := r.run(t, "status", "01JDX3V6Q6T7ZP3Y6N4B1K9S2E")
	if code != 1 || !strings.Contains(errOut, "01JDX3V6Q6T7ZP3Y6N4B1K9S2E") {
		t.Errorf("exit %d: %s", code, errOut)
	}
}

func TestRetryReSendsAnInitiationFailureWithTheSameID(t *testing.T) {
	fake := n8ntest.New(t, n8ntest.Options{})
	fake.SetFault(n8ntest.NotRegistered)
	r := newSendRig(t, fake.WebhookURL, "test-api-key")
	out, _, code := r.run(t, "generate", "--prompt", "a red fox", "--json")
	first := decodeResults(t, out)
	if code != 1 || first[0].ErrorCode != "n8n_webhook_not_registered" || !strings.Contains(first[0].ErrorMessage, "Activate the workflow") {
		t.Fatalf("generate exit %d: %+v", code, first)
	}
	fake.SetFault(n8ntest.Accept) // the workflow was activated
	out, errOut, code := r.run(t, "retry", first[0].ID, "--json")
	again := decodeResults(t, out)
	if code != 0 || len(again) != 1 || again[0].ID != first[0].ID || again[0].Status != "processing" {
		t.Errorf("retry exit %d (%s): %+v", code, errOut, again)
	}
	// A processing request cannot be retried.
	_, errOut, code = r.run(t, "retry", first[0].ID)
	if code != 1 || !strings.Contains(errOut, "only initiation_failed, failed or timed_out") {
		t.Errorf("second retry exit %d: %s", code, errOut)
	}
}

func TestCancelStopsAProcessingRequestOnce(t *testing.T) {
	fake := n8ntest.New(t, n8ntest.Options{})
	r := newSendRig(t, fake.WebhookURL, "test-api-key")
	out, _, _ := r.run(t, "generate", "--prompt", "a red fox", "--json")
	id := decodeResults(t, out)[0].ID
	out, _, code := r.run(t, "cancel", id)
	if code != 0 || !strings.Contains(out, id) || !strings.Contains(out, "cancelled") {
		t.Errorf("cancel exit %d: %s", code, out)
	}
	_, errOut, code := r.run(t, "cancel", id)
	if code != 1 || !strings.Contains(errOut, "it is cancelled") {
		t.Errorf("second cancel exit %d: %s", code, errOut)
	}
	_, _, code = r.run(t, "cancel")
	if code != 2 {
		t.Errorf("cancel without ID exit %d, want 2", code)
	}
}
