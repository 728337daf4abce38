package n8n

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/influencegen/influencegen/app"
)

// recordingLookup resolves nothing and remembers every name asked for.
type recordingLookup struct {
	mu    sync.Mutex
	names []string
}

func (l *recordingLookup) lookup(_ context.Context, host string) ([]netip.Addr, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.names = append(l.names, host)
	return nil, &netErr{host}
}

// Issue 10 §15: numeric host forms were acked and then looked up in DNS.
func TestNumericHostFormsAreRefusedBeforeTheAckWithoutDNS(t *testing.T) {
	tests := []struct{ url, why string }{
		{"http://0x7f000001/x.png", "loopback"},
		{"http://2130706433/x.png", "loopback"},
		{"http://127.1/x.png", "loopback"},
		{"http://0/x.png", "unspecified"},
		{"http://0177.0.0.1/x.png", "loopback"},
		{"http://127.0.0.1./x.png", "loopback"},
		{"http://[::ffff:127.0.0.1]/x.png", "loopback"},
		{"http://0xa9.0xfe.0xa9.0xfe/latest/meta-data/", "link-local"},
		{"http://012.0.0.1/x.png", "private"},
		{"http://999.1.1.1/x.png", "neither a valid IP address nor a name"},
		{"http://images.0x10/x.png", "neither a valid IP address nor a name"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			h := newHarness(t)
			dns := &recordingLookup{}
			h.policy.SetLookup(dns.lookup)
			req := h.request(app.StatusProcessing)
			got := h.callback(urlBody(req.ID, tt.url))
			wantStatus(t, got, http.StatusBadRequest)
			if msg, _ := got.body["message"].(string); !strings.Contains(msg, tt.why) {
				t.Errorf("message %q does not say %q", msg, tt.why)
			}
			if len(dns.names) != 0 {
				t.Errorf("DNS was asked for %q", dns.names)
			}
			h.wantNothingWritten()
		})
	}
}

func TestHostIPReadsAddressesLikeTheResolver(t *testing.T) {
	for host, want := range map[string]string{
		"0x7f000001": "127.0.0.1", "2130706433": "127.0.0.1", "127.1": "127.0.0.1", "0": "0.0.0.0",
		"0177.0.0.1": "127.0.0.1", "127.0.0.1.": "127.0.0.1", "[::ffff:127.0.0.1]": "127.0.0.1",
		"10.1": "10.0.0.1", "192.168.257": "192.168.1.1", "8.8.8.8": "8.8.8.8",
	} {
		if ip, ok := hostIP(host); !ok || ip.String() != want {
			t.Errorf("hostIP(%q) = %v, %v; want %s", host, ip, ok, want)
		}
	}
	for _, host := range []string{"example.com", "256.0.0.1", "1.2.3.4.5", "0x", "08.0.0.1", "4294967296", ""} {
		if ip, ok := hostIP(host); ok {
			t.Errorf("hostIP(%q) = %v, want no address", host, ip)
		}
	}
}

// Issue 10 §12: with inline data present, image_url was not checked
// (file:///etc/passwd was stored as the source), and userinfo was sent as
// Basic auth and stored.
func TestEveryImageURLIsCheckedAndUserinfoIsRefused(t *testing.T) {
	pic := b64(testPNG(t, 4, 4, 3))
	tests := []struct {
		name string
		body func(id string) map[string]any
		want string
	}{
		{"a file URL next to inline data", func(id string) map[string]any {
			return map[string]any{"ai_generation_request_id": id, "status": "success", "image_base64": pic, "image_url": "file:///etc/passwd"}
		}, `image_url: scheme "file" is not allowed`},
		{"a loopback URL next to inline data in a list", func(id string) map[string]any {
			return map[string]any{"ai_generation_request_id": id, "status": "success", "images": []any{map[string]any{"base64": pic, "url": "http://127.0.0.1:6379/"}}}
		}, "images[0].url: host 127.0.0.1 is a loopback address"},
		{"userinfo in a URL", func(id string) map[string]any {
			return urlBody(id, "http://user:pw@images.example.com/a.png")
		}, "image_url: must not contain a user name or password"},
		{"userinfo next to inline data", func(id string) map[string]any {
			return map[string]any{"ai_generation_request_id": id, "status": "success", "image_base64": pic, "image_url": "https://token@images.example.com/a.png"}
		}, "image_url: must not contain a user name or password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			req := h.request(app.StatusProcessing)
			got := h.callback(tt.body(req.ID))
			wantStatus(t, got, http.StatusBadRequest)
			if msg, _ := got.body["message"].(string); !strings.Contains(msg, tt.want) {
				t.Errorf("message %q, want %q", msg, tt.want)
			}
			if strings.Contains(got.raw, "pw@") {
				t.Errorf("the reply repeats the password: %s", got.raw)
			}
			h.wantNothingWritten()
		})
	}
	t.Run("a redirect to a URL with userinfo is not followed", func(t *testing.T) {
		var sawAuth []string
		var mu sync.Mutex
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			sawAuth = append(sawAuth, r.Header.Get("Authorization"))
			mu.Unlock()
			http.Redirect(w, r, "http://user:pw@"+r.Host+"/again", http.StatusFound)
		}))
		defer srv.Close()
		f := NewFetcher(NewImagePolicy("", []string{"127.0.0.1"}), app.SystemClock{}, "test")
		err := f.Fetch(context.Background(), srv.URL+"/a.png", func(io.Reader) error { return nil })
		if err == nil || !strings.Contains(err.Error(), "user name or password") {
			t.Fatalf("Fetch = %v, want the redirect refused for its userinfo", err)
		}
		for _, a := range sawAuth {
			if a != "" {
				t.Fatalf("credentials were sent: %q", a)
			}
		}
	})
}

// Issue 10 §13: allowing n8n's host allowed every port on it.
func TestTheN8NAllowanceIsExactlyItsSchemeHostAndPort(t *testing.T) {
	policy := NewImagePolicy("http://127.0.0.1:5678/webhook/influence-gen/generate", []string{"images.lan:9000", "[::1]:9001", "10.9.0.0/16", "cdn.lan"})
	tests := []struct {
		url  string
		want bool
	}{
		{"http://127.0.0.1:5678/x.png", true},
		{"http://127.0.0.1:6379/", false},
		{"https://127.0.0.1:5678/x.png", false},
		{"http://[::ffff:127.0.0.1]:6379/", false},
		{"http://[::ffff:127.0.0.1]:5678/x.png", true},
		{"http://127.0.0.1/x.png", false},
		{"http://images.lan:9000/a.png", true},
		{"http://images.lan:9001/a.png", true}, // a name: its address decides (no DNS in CheckURL)
		{"http://[::1]:9001/a.png", true},
		{"http://[::1]:9002/a.png", false},
		{"http://10.9.3.4:1234/a.png", true},
		{"http://cdn.lan:8080/a.png", true},
	}
	for _, tt := range tests {
		err := policy.CheckURL(tt.url)
		if (err == nil) != tt.want {
			t.Errorf("CheckURL(%s) = %v, want allowed %v", tt.url, err, tt.want)
		}
	}
	// The dialer: a name that resolves to n8n's address on another port is
	// refused on the socket, the exact endpoint is not.
	for _, tt := range []struct {
		host, port string
		want       bool
	}{
		{"127.0.0.1", "5678", true}, {"127.0.0.1", "6379", false}, {"images.lan", "9001", false}, {"images.lan", "9000", true},
	} {
		if got := policy.allowed("", tt.host, tt.port); got != tt.want {
			t.Errorf("allowed(%s:%s) = %v, want %v", tt.host, tt.port, got, tt.want)
		}
	}
}

func TestTheDialerRefusesAnotherPortOfN8NsHost(t *testing.T) {
	pic := testPNG(t, 8, 8, 4)
	n8nSrv := imageServer(t, pic)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(pic) }))
	defer other.Close()
	otherPort := other.URL[strings.LastIndex(other.URL, ":")+1:]
	policy := NewImagePolicy(n8nSrv.URL+"/webhook/x", nil)
	policy.SetLookup(lookupTable(map[string]string{"alias.test": "127.0.0.1"}))
	f := NewFetcher(policy, app.SystemClock{}, "test")
	if err := f.Fetch(context.Background(), n8nSrv.URL+"/a.png", func(r io.Reader) error { _, err := io.Copy(io.Discard, r); return err }); err != nil {
		t.Fatalf("n8n's own endpoint: %v", err)
	}
	// A hosts-file name for n8n's address, on an unrelated local service.
	err := f.Fetch(context.Background(), "http://alias.test:"+otherPort+"/a.png", func(io.Reader) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("Fetch of another port = %v, want refused as loopback", err)
	}
}
