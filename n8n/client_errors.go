package n8n

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/influencegen/influencegen/app"
)

// n8nError is the JSON error body n8n writes for 404 and 422:
// {"code":404,"message":"…","hint":"…"}.
type n8nError struct {
	Message string `json:"message"`
	Hint    string `json:"hint"`
}

// serverText returns n8n's own words from an error body: the JSON message
// (and hint), else the text, cut to a readable length.
func serverText(raw []byte) string {
	var e n8nError
	if json.Unmarshal(raw, &e) == nil && e.Message != "" {
		if e.Hint != "" {
			return clip(e.Message+" ("+e.Hint+")", 400)
		}
		return clip(e.Message, 400)
	}
	return clip(strings.TrimSpace(string(raw)), 400)
}

// statusError maps a non-2xx answer to a reason and a message that tells
// the person what to do. The texts match what real n8n answers (DESIGN §4).
func statusError(code int, raw []byte, webhookURL, keyHeader string) *app.Error {
	said := serverText(raw)
	switch {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return app.ReasonErrorf(app.EUNAUTHORIZED, "n8n_auth",
			"n8n rejected the API key (HTTP %d). Set it with `influencegen secrets set n8n-api-key`, and check that the Header Auth credential's header name equals n8n.api_key_header (now %s).",
			code, keyHeader)
	case code == http.StatusNotFound:
		return app.ReasonErrorf(app.ENOTFOUND, "n8n_webhook_not_registered",
			"n8n has no webhook listening at %s (HTTP 404%s). %s", webhookURL, quoted(said), webhookAdvice(webhookURL))
	case code == http.StatusBadRequest || code == http.StatusUnprocessableEntity:
		return app.ReasonErrorf(app.EINVALID, "n8n_rejected_payload",
			"n8n rejected the request body (HTTP %d)%s. Check the workflow's Webhook node and any validation in it.", code, quoted(said))
	case code == http.StatusRequestEntityTooLarge:
		return app.ReasonErrorf(app.EINVALID, "n8n_payload_too_large",
			"n8n refused the request as too large (HTTP 413). Shorten the prompt, or raise N8N_PAYLOAD_SIZE_MAX on the n8n server.")
	default:
		msg := fmt.Sprintf("n8n answered HTTP %d %s%s", code, http.StatusText(code), quoted(said))
		if code >= 300 && code < 400 {
			msg += ". n8n.webhook_url redirects: set it to the final URL"
		}
		return &app.Error{Code: app.EUNAVAILABLE, Reason: fmt.Sprintf("n8n_http_%d", code), Message: msg}
	}
}

func quoted(s string) string {
	if s == "" {
		return ""
	}
	return ": " + s
}

// webhookAdvice depends on the URL kind: a production URL (/webhook/) works
// only while the workflow is active; a test URL (/webhook-test/) accepts one
// call after "Listen for test event" is clicked.
func webhookAdvice(webhookURL string) string {
	switch {
	case strings.Contains(webhookURL, "/webhook-test/"):
		return `This is a test URL: click "Listen for test event" (Execute workflow) in the n8n editor before each call, or switch n8n.webhook_url to the production /webhook/ URL and activate the workflow.`
	case strings.Contains(webhookURL, "/webhook/"):
		return "Activate the workflow in n8n (the Active toggle in the editor's top-right), and check that the Webhook node's path and HTTP method (POST) match n8n.webhook_url."
	default:
		return `Check n8n.webhook_url: use the Webhook node's production URL (…/webhook/…) with the workflow active, or its test URL (…/webhook-test/…) after clicking "Listen for test event".`
	}
}

// unreachable names the host and the network cause: DNS, refused, TLS,
// timeout, or a connection closed before the answer.
func unreachable(host string, err error, timeout time.Duration) *app.Error {
	var (
		dnsErr    *net.DNSError
		certErr   *tls.CertificateVerificationError
		unknownCA x509.UnknownAuthorityError
		hostErr   x509.HostnameError
		recordErr tls.RecordHeaderError
		netErr    net.Error
	)
	var cause string
	switch {
	case errors.As(err, &dnsErr):
		cause = fmt.Sprintf("the host name %q does not resolve (DNS); check n8n.webhook_url", dnsErr.Name)
	case errors.Is(err, syscall.ECONNREFUSED):
		cause = "connection refused; is n8n running and listening on that port?"
	case errors.As(err, &certErr), errors.As(err, &unknownCA), errors.As(err, &hostErr):
		cause = "TLS certificate not accepted (" + tlsDetail(err) + "); fix the certificate or use the URL the certificate names"
	case errors.As(err, &recordErr):
		cause = "TLS handshake failed: the server does not speak TLS there; use http:// or the right port"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		cause = fmt.Sprintf("no answer within %s (n8n.timeout)", timeout)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET):
		cause = "the connection was closed before n8n answered"
	case strings.Contains(err.Error(), "tls:"):
		cause = "TLS handshake failed (" + tlsDetail(err) + ")"
	default:
		cause = "network error: " + err.Error()
	}
	return &app.Error{Code: app.EUNAVAILABLE, Reason: "n8n_unreachable",
		Message: fmt.Sprintf("cannot reach n8n at %s: %s", host, cause), Err: err}
}

// tlsDetail is the innermost error text, without the URL net/http prepends.
func tlsDetail(err error) string {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err.Error()
		}
		err = u
	}
}
