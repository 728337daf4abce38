package sshd

import (
	"fmt"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
)

func TestABurstOfEventsReachesASessionAsOneReload(t *testing.T) {
	host := app.NewBus()
	session := relayBus(t.Context(), host, time.Second, 2) // a window far longer than 41 publishes take
	sub := session.Subscribe(t.Context(), 64)
	for i := range 20 {
		host.Publish(app.Event{Kind: app.EventRequest, RequestID: fmt.Sprint("r", i)})
		host.Publish(app.Event{Kind: app.EventActivity, RequestID: fmt.Sprint("r", i)})
	}
	host.Publish(app.Event{Kind: app.EventSecrets})
	var got []app.Event
	deadline := time.After(10 * time.Second)
	for len(got) == 0 || got[len(got)-1] != (app.Event{Kind: app.EventActivity}) {
		select {
		case ev := <-sub.C:
			got = append(got, ev)
		case <-deadline:
			t.Fatalf("no merged reload within 10s; got %v", got)
		}
	}
	want := []app.Event{{Kind: app.EventRequest, RequestID: "r0"}, {Kind: app.EventSecrets}, {Kind: app.EventRequest}, {Kind: app.EventActivity}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("session saw %v, want the first event, the secrets hint, then one list reload and one activity reload: %v", got, want)
	}
}
