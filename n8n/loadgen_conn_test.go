package n8n

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// The load generator's own connection (loadgen_test.go) must measure
// what net/http would: one keep-alive connection for every post, the
// whole answer read, and anything but 200 an error naming it.
func TestTheLoadConnectionKeepsItsConnectionAndNamesARefusal(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get("X-Callback-Token") != "tok" || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "bad headers", http.StatusBadRequest)
			return
		}
		if string(body) == "refuse" {
			w.WriteHeader(http.StatusConflict)
			_, _ = io.WriteString(w, `{"status":"error","message":"no"}`)
			return
		}
		_, _ = w.Write([]byte(strings.Repeat("x", 5000))) // longer than one read
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	lc, err := dialLoad(srv.URL+"/callback", "tok")
	if err != nil {
		t.Fatal(err)
	}
	defer lc.close()
	for range 5 {
		if err := lc.post([]byte(`{"a":1}`)); err != nil {
			t.Fatal(err)
		}
	}
	err = lc.post([]byte("refuse"))
	if err == nil || !strings.Contains(err.Error(), "409") || !strings.Contains(err.Error(), `"message":"no"`) {
		t.Fatalf("a 409 answer gave %v; want an error naming the status and the answer", err)
	}
	if err := lc.post([]byte(`{"a":2}`)); err != nil {
		t.Fatalf("after a refusal the connection still serves: %v", err)
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("%d connections for 7 posts; want 1 kept alive", n)
	}
}
