package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
)

func lastLine(screen string) string {
	lines := strings.Split(strings.TrimRight(screen, "\n"), "\n")
	return lines[len(lines)-1]
}

func TestTheFooterKeepsTheWayOutAndHelpOnEveryScreen(t *testing.T) {
	tests := []struct {
		name  string
		keys  []string
		wants []string
	}{
		{"list", nil, []string{"? help", "q quit"}},
		{"full-screen detail", []string{"enter"}, []string{"esc back", "? help"}},
		{"composer", []string{"n"}, []string{"esc close", "ctrl+s submit"}},
		{"admin", []string{"a"}, []string{"esc back", "? help"}},
		{"activity", []string{"l"}, []string{"esc back", "? help"}},
		{"help", []string{"?"}, []string{"esc/q close help"}},
		{"search", []string{"/"}, []string{"esc clear search"}},
		{"a confirmation", []string{"a", "t"}, []string{"esc keep"}},
	}
	r := newRig(t, true)
	for _, w := range []int{60, 80} {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				m := r.model(t, w, 24)
				m = press(t, m, tt.keys...)
				footer := lastLine(screenText(m))
				for _, want := range tt.wants {
					if !strings.Contains(footer, want) {
						t.Errorf("at %d columns the footer %q lacks %q", w, footer, want)
					}
				}
				if strings.Contains(footer, "…") {
					t.Errorf("the footer was cut: %q", footer)
				}
			})
		}
	}
}

func TestTheHeaderDropsTheAddressBeforeTheReachabilityMark(t *testing.T) {
	r := newRig(t, true)
	for _, w := range []int{60, 80, 120} {
		m := r.model(t, w, 24)
		first := strings.Split(screenText(m), "\n")[0]
		if !strings.Contains(first, "✓") {
			t.Errorf("at %d columns the header lost the reachability mark: %q", w, first)
		}
		if strings.Contains(first, "…") {
			t.Errorf("at %d columns the header was cut instead of shortened: %q", w, first)
		}
	}
	m := r.model(t, 160, 24)
	if first := strings.Split(screenText(m), "\n")[0]; !strings.Contains(first, "127.0.0.1:8787 ← https://fox.trycloudflare.com ✓ reachable") {
		t.Errorf("a wide header should say everything: %q", first)
	}
}

func TestTheHeaderShowsAnN8NErrorOnlyWhileItIsTheLatestOutcome(t *testing.T) {
	r := newRig(t, true)
	ctx := context.Background()
	if err := r.db.AppendActivity(ctx, app.Activity{Kind: app.ActivityN8NError, Level: app.LevelError, Message: "n8n answered 500: workflow crashed", CreatedAt: testNow.Add(-3 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	m := r.model(t, 160, 24)
	second := strings.Split(screenText(m), "\n")[1]
	if !strings.Contains(second, "n8n: n8n answered 500: workflow crashed (3m ago)") {
		t.Fatalf("the latest error with its age should show: %q", second)
	}
	if err := r.db.AppendActivity(ctx, app.Activity{RequestID: testID(7), Kind: app.ActivityAccepted, Level: app.LevelInfo, Message: "n8n accepted it", CreatedAt: testNow.Add(-time.Minute)}); err != nil {
		t.Fatal(err)
	}
	m = r.model(t, 160, 24)
	if second := strings.Split(screenText(m), "\n")[1]; strings.Contains(second, "n8n:") {
		t.Fatalf("an error followed by a success should be gone: %q", second)
	}
}
