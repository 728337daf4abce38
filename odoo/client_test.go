package odoo_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/odoo"
	"github.com/influencegen/influencegen/odoo/odootest"
)

const reqModel = "influence_gen.ai_image_generation_request"

func TestClientCreatesSearchesAndWritesOverBothProtocols(t *testing.T) {
	for _, protocol := range []string{odoo.ProtocolJSON2, odoo.ProtocolJSONRPC, odoo.ProtocolAuto} {
		t.Run(protocol, func(t *testing.T) {
			fake := odootest.New(t, odootest.Config{})
			c := newClient(t, fake, protocol)
			ctx := context.Background()
			ids, err := odoo.Create(ctx, c, reqModel, []map[string]any{
				{"name": "one", "external_id": "A", "prompt": "a red cube", "state": "queued", "seed": "4294967295"},
				{"name": "two", "external_id": "B", "prompt": "a blue sphere", "state": "queued"},
			}, nil)
			if err != nil || len(ids) != 2 {
				t.Fatalf("create = %v, %v; want two ids", ids, err)
			}
			if err := odoo.Write(ctx, c, reqModel, ids, map[string]any{"state": "completed"}); err != nil {
				t.Fatalf("write: %v", err)
			}
			var recs []odoo.Record
			if err := odoo.SearchRead(ctx, c, reqModel, []any{[]any{"external_id", "in", []string{"A", "B"}}},
				[]string{"external_id", "state", "seed", "error_message"}, 0, &recs); err != nil {
				t.Fatalf("search_read: %v", err)
			}
			if len(recs) != 2 || recs[0].String("state") != "completed" || recs[0].String("seed") != "4294967295" || recs[0]["error_message"] != false {
				t.Fatalf("search_read = %v", recs)
			}
			want := protocol
			if protocol == odoo.ProtocolAuto {
				want = odoo.ProtocolJSON2
			}
			if c.Protocol() != want {
				t.Fatalf("protocol = %q, want %q", c.Protocol(), want)
			}
		})
	}
}

func TestClientMapsOdooErrorsToTheSameReasonsInBothProtocols(t *testing.T) {
	cases := []struct {
		name      string
		setup     func(*odootest.Server)
		model     string
		vals      map[string]any
		reason    string
		transient bool
		contains  string
	}{
		{name: "a revoked key is odoo_auth naming user and database", setup: func(f *odootest.Server) { f.RevokeKey() },
			model: reqModel, vals: map[string]any{"name": "x", "external_id": "x", "prompt": "p"}, reason: app.ReasonOdooAuth,
			contains: "Odoo rejected the API key for user admin on database igtest"},
		{name: "an unknown model is odoo_model_missing", model: "no.such.model", vals: map[string]any{"name": "x"},
			reason: app.ReasonOdooModelMissing, contains: "install the influence_gen_ai_integration addon (odoo/addon) or set odoo.request_model"},
		{name: "a missing required field is odoo_validation with Odoo's message", model: reqModel,
			vals: map[string]any{"name": "x", "external_id": "x"}, reason: app.ReasonOdooValidation, contains: "Missing required value for the field 'prompt'"},
		{name: "missing rights are odoo_access", setup: func(f *odootest.Server) { f.SetReadOnly(true) }, model: reqModel,
			vals: map[string]any{"name": "x", "external_id": "x", "prompt": "p"}, reason: app.ReasonOdooAccess, contains: "refused create"},
		{name: "a 500 is transient", setup: func(f *odootest.Server) { f.FailNext(500, 500) }, model: reqModel,
			vals: map[string]any{"name": "x", "external_id": "x", "prompt": "p"}, reason: app.ReasonOdooUnavailable, transient: true},
		{name: "a 429 is transient", setup: func(f *odootest.Server) { f.FailNext(429, 429) }, model: reqModel,
			vals: map[string]any{"name": "x", "external_id": "x", "prompt": "p"}, reason: app.ReasonOdooUnavailable, transient: true},
		{name: "an unknown field is a permanent odoo_error, not a retried 500", model: reqModel,
			vals: map[string]any{"name": "x", "external_id": "x", "prompt": "p", "no_such_field": 1}, reason: app.ReasonOdooError,
			contains: "Invalid field 'no_such_field'"},
		{name: "a 502 from the proxy in front of a stopped Odoo is transient", setup: func(f *odootest.Server) { f.SetDown(true) }, model: reqModel,
			vals: map[string]any{"name": "x", "external_id": "x", "prompt": "p"}, reason: app.ReasonOdooUnavailable, transient: true},
	}
	for _, protocol := range []string{odoo.ProtocolJSON2, odoo.ProtocolJSONRPC} {
		for _, tc := range cases {
			t.Run(protocol+"/"+tc.name, func(t *testing.T) {
				fake := odootest.New(t, odootest.Config{})
				c := newClient(t, fake, protocol)
				if _, err := c.Login(context.Background()); err != nil {
					t.Fatal(err)
				}
				if tc.setup != nil {
					tc.setup(fake)
				}
				_, err := odoo.Create(context.Background(), c, tc.model, []map[string]any{tc.vals}, nil)
				if got := app.ErrorReason(err); got != tc.reason {
					t.Fatalf("reason = %q (%v), want %q", got, err, tc.reason)
				}
				if odoo.Transient(err) != tc.transient {
					t.Fatalf("transient = %v, want %v (%v)", odoo.Transient(err), tc.transient, err)
				}
				if !strings.Contains(app.ErrorMessage(err), tc.contains) {
					t.Fatalf("message %q does not contain %q", app.ErrorMessage(err), tc.contains)
				}
			})
		}
	}
}

func TestClientTimesOutOnAHangingOdooWithATransientError(t *testing.T) {
	fake := odootest.New(t, odootest.Config{})
	c, err := odoo.New(odoo.Options{URL: fake.URL, Database: fake.Database(), Protocol: odoo.ProtocolJSON2,
		Key: staticKey(fake.Key()), HTTP: &http.Client{Timeout: 200 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	fake.SetHang(true)
	_, err = odoo.Create(context.Background(), c, reqModel, []map[string]any{{"name": "x"}}, nil)
	if app.ErrorReason(err) != app.ReasonOdooTimeout || !odoo.Transient(err) {
		t.Fatalf("err = %v (reason %q), want a transient odoo_timeout", err, app.ErrorReason(err))
	}
}

func TestClientReportsAStoppedOdooAsUnreachable(t *testing.T) {
	fake := odootest.New(t, odootest.Config{})
	url := fake.URL
	fake.Close()
	c, err := odoo.New(odoo.Options{URL: url, Protocol: odoo.ProtocolJSON2, Key: staticKey("k")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Login(context.Background())
	if app.ErrorReason(err) != app.ReasonOdooUnreachable || !odoo.Transient(err) {
		t.Fatalf("err = %v (reason %q), want a transient odoo_unreachable", err, app.ErrorReason(err))
	}
}

func TestJSONRPCLogsInOnceForManyConcurrentCalls(t *testing.T) {
	fake := odootest.New(t, odootest.Config{})
	c := newClient(t, fake, odoo.ProtocolJSONRPC)
	var wg sync.WaitGroup
	var failures atomic.Int32
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var recs []odoo.Record
			if err := odoo.SearchRead(context.Background(), c, reqModel, []any{}, []string{"name"}, 1, &recs); err != nil {
				failures.Add(1)
			}
		}()
	}
	wg.Wait()
	if failures.Load() != 0 {
		t.Fatalf("%d calls failed", failures.Load())
	}
	if fake.Logins() != 1 {
		t.Fatalf("common.login ran %d times, want once per process", fake.Logins())
	}
}

func TestAutoFallsBackToJSONRPCWhenTheServerHasNoJSON2(t *testing.T) {
	fake := odootest.New(t, odootest.Config{NoJSON2: true})
	c := newClient(t, fake, odoo.ProtocolAuto)
	sess, err := c.Login(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if sess.Protocol != odoo.ProtocolJSONRPC || c.Protocol() != odoo.ProtocolJSONRPC || sess.UID != odootest.UID {
		t.Fatalf("session = %+v, protocol %q; want jsonrpc uid %d", sess, c.Protocol(), odootest.UID)
	}
	// Detection happens once: further calls go straight to /jsonrpc.
	before := fake.RPCs()
	var recs []odoo.Record
	if err := odoo.SearchRead(context.Background(), c, reqModel, []any{}, []string{"name"}, 1, &recs); err != nil {
		t.Fatal(err)
	}
	if got := fake.RPCs() - before; got != 1 {
		t.Fatalf("a call after detection cost %d RPCs, want 1", got)
	}
}

func TestAJSON2ClientOnAnOldOdooSaysToUseJSONRPC(t *testing.T) {
	fake := odootest.New(t, odootest.Config{NoJSON2: true})
	c := newClient(t, fake, odoo.ProtocolJSON2)
	_, err := c.Login(context.Background())
	if app.ErrorReason(err) != app.ReasonOdooProtocol || !strings.Contains(app.ErrorMessage(err), "odoo.protocol = jsonrpc") {
		t.Fatalf("err = %v, want odoo_protocol advising jsonrpc", err)
	}
}

func TestANewKeyStoredAfterARejectionIsUsedWithoutARestart(t *testing.T) {
	for _, protocol := range []string{odoo.ProtocolJSON2, odoo.ProtocolJSONRPC} {
		t.Run(protocol, func(t *testing.T) {
			fake := odootest.New(t, odootest.Config{})
			var mu sync.Mutex
			key := fake.Key()
			c, err := odoo.New(odoo.Options{URL: fake.URL, Database: fake.Database(), Username: fake.Login(), Protocol: protocol,
				Key: func(context.Context) (string, error) { mu.Lock(); defer mu.Unlock(); return key, nil }})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			var recs []odoo.Record
			if err := odoo.SearchRead(ctx, c, reqModel, []any{}, []string{"name"}, 1, &recs); err != nil {
				t.Fatal(err)
			}
			fake.SetKey("new-key")
			if err := odoo.SearchRead(ctx, c, reqModel, []any{}, []string{"name"}, 1, &recs); app.ErrorReason(err) != app.ReasonOdooAuth {
				t.Fatalf("after revocation: %v, want odoo_auth", err)
			}
			mu.Lock()
			key = "new-key"
			mu.Unlock()
			if err := odoo.SearchRead(ctx, c, reqModel, []any{}, []string{"name"}, 1, &recs); err != nil {
				t.Fatalf("with the new key: %v", err)
			}
		})
	}
}

func TestAWrongJSONRPCPasswordIsOdooAuthNotACrash(t *testing.T) {
	fake := odootest.New(t, odootest.Config{})
	c, err := odoo.New(odoo.Options{URL: fake.URL, Database: fake.Database(), Username: fake.Login(),
		Protocol: odoo.ProtocolJSONRPC, Key: staticKey("wrong-password")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Login(context.Background())
	if app.ErrorReason(err) != app.ReasonOdooAuth || !strings.Contains(app.ErrorMessage(err), "user admin on database igtest") {
		t.Fatalf("err = %v, want odoo_auth naming the user and database", err)
	}
	if strings.Contains(err.Error(), "wrong-password") {
		t.Fatal("the error message contains the password")
	}
}
