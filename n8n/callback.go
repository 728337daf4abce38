package n8n

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/influencegen/influencegen/app"
)

// Callback is one parsed result from n8n, normalised from every accepted
// alias (DESIGN §5). Its JSON form is what a Delivery's Body holds, so the
// ingest worker never has to parse the aliases again.
type Callback struct {
	RequestRef       string          `json:"request_ref"`      // as sent: our id, or an Odoo record id (digits)
	Status           string          `json:"status"`           // CallbackSuccess or CallbackFailed
	Images           []CallbackImage `json:"images,omitempty"` // success only
	ErrorMessage     string          `json:"error_message,omitempty"`
	ErrorCode        string          `json:"error_code,omitempty"`
	ExecutionID      string          `json:"execution_id,omitempty"`
	ModelID          string          `json:"model_id,omitempty"`
	GenerationTimeMS *int64          `json:"generation_time_ms,omitempty"`
	Metadata         json.RawMessage `json:"metadata,omitempty"`

	// The Odoo JSON-RPC envelope, so the reply can be given in kind.
	RPC   bool            `json:"-"`
	RPCID json.RawMessage `json:"-"`

	// metadataDropped: Metadata is the note that replaced metadata over
	// MaxMetadataBytes, so the body cannot be stored as received.
	metadataDropped bool
}

// CallbackImage is one image of a success callback: a URL, inline base64,
// or both (then the inline bytes win and the URL is kept as the source).
type CallbackImage struct {
	Field    string `json:"field"` // where it was in the payload, for messages: "images[2]" or "image"
	URL      string `json:"url,omitempty"`
	Base64   string `json:"base64,omitempty"`
	MimeType string `json:"mime_type,omitempty"` // as declared; the magic bytes decide
	Width    int    `json:"width,omitempty"`     // as declared; the header decides
	Height   int    `json:"height,omitempty"`
	Seed     *int64 `json:"seed,omitempty"`
}

// Callback statuses after alias folding.
const (
	CallbackSuccess = "success"
	CallbackFailed  = "failed"
)

// maxRefLen bounds a request reference; ours are 26 characters.
const maxRefLen = 64

// fieldErr is the 400 reply's message: "<field>: <problem>".
func fieldErr(field, format string, args ...any) error {
	return &app.Error{Code: app.EINVALID, Field: field, Message: field + ": " + fmt.Sprintf(format, args...)}
}

// ParseCallback reads a callback body. The result's strings may alias
// body: the caller must not modify body afterwards. It accepts the Odoo JSON-RPC envelope
// and every alias of DESIGN §5; anything else is an EINVALID error whose
// message names the field and the problem. The RPC fields of the result are
// set even on error so the reply can use the envelope.
func ParseCallback(body []byte) (Callback, error) {
	var cb Callback
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return cb, fieldErr("body", "is empty: send a JSON object")
	}
	if trimmed[0] != '{' {
		return cb, fieldErr("body", "must be a JSON object, got %s", jsonKind(trimmed))
	}
	// One pass validates the whole document and splits its top level
	// without copying (the members alias body): callback_validate.go.
	top, valid := validTopObject(trimmed)
	if !valid {
		err := json.Unmarshal(trimmed, new(json.RawMessage)) // for the offset in the message
		return cb, fieldErr("body", "is not valid JSON: %s", plainJSONError(err))
	}
	fields := top
	var err error
	if rpc, ok := top["jsonrpc"]; ok {
		params, hasParams := top["params"]
		if hasParams {
			cb.RPC = true
			if id, ok := top["id"]; ok && isJSONScalar(id) {
				cb.RPCID = id
			}
			if !bytes.Equal(bytes.TrimSpace(rpc), []byte(`"2.0"`)) {
				return cb, fieldErr("jsonrpc", "must be \"2.0\"")
			}
			var err error
			if fields, err = splitObject(params); err != nil {
				return cb, fieldErr("params", "must be a JSON object holding the callback fields")
			}
		}
	}

	if cb.RequestRef, err = parseRef(fields); err != nil {
		return cb, err
	}
	statusRaw, ok := fields["status"]
	if !ok {
		return cb, fieldErr("status", "is missing: send success or failed")
	}
	status, err := stringField("status", statusRaw)
	if err != nil {
		return cb, err
	}
	switch strings.ToLower(strings.TrimSpace(status)) {
	case "success", "succeeded", "completed", "ok":
		cb.Status = CallbackSuccess
	case "failed", "failure", "error":
		cb.Status = CallbackFailed
	default:
		return cb, fieldErr("status", "%q is unknown: use success or failed", clipText(status, 40))
	}

	if cb.ExecutionID, err = optionalText(fields, "execution_id", "executionId"); err != nil {
		return cb, err
	}
	if cb.ModelID, err = optionalText(fields, "model_id"); err != nil {
		return cb, err
	}
	if raw, ok := fields["generation_time_ms"]; ok && !isNull(raw) {
		v, err := intField("generation_time_ms", raw)
		if err != nil {
			return cb, err
		}
		cb.GenerationTimeMS = &v
	}
	if raw, ok := fields["metadata"]; ok && !isNull(raw) {
		cb.Metadata, cb.metadataDropped = capMetadata(bytes.TrimSpace(raw))
	}

	if cb.Status == CallbackFailed {
		return cb, parseFailure(fields, &cb)
	}
	cb.Images, err = parseImages(fields)
	return cb, err
}

func parseRef(fields map[string]json.RawMessage) (string, error) {
	name, raw := "ai_generation_request_id", fields["ai_generation_request_id"]
	if raw == nil || isNull(raw) {
		name, raw = "request_id", fields["request_id"]
	}
	if raw == nil || isNull(raw) {
		return "", nil // may come from the URL path; the handler decides
	}
	raw = bytes.TrimSpace(raw)
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", fieldErr(name, "is not a valid JSON string")
		}
		s = strings.TrimSpace(s)
		if s == "" {
			return "", fieldErr(name, "is empty")
		}
		if len(s) > maxRefLen || !printableASCII(s) {
			return "", fieldErr(name, "is not a request id (26 letters and digits) or an Odoo record id")
		}
		return s, nil
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		n, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil || n <= 0 {
			return "", fieldErr(name, "must be a positive whole number or a request id string")
		}
		return strconv.FormatInt(n, 10), nil
	}
	return "", fieldErr(name, "must be a string or a number, got %s", jsonKind(raw))
}

func parseFailure(fields map[string]json.RawMessage, cb *Callback) error {
	var err error
	if cb.ErrorCode, err = optionalText(fields, "error_code"); err != nil {
		return err
	}
	if raw, ok := fields["error_message"]; ok && !isNull(raw) {
		if cb.ErrorMessage, err = stringField("error_message", raw); err != nil {
			return err
		}
	} else if raw, ok := fields["error"]; ok && !isNull(raw) {
		raw = bytes.TrimSpace(raw)
		switch raw[0] {
		case '"':
			if cb.ErrorMessage, err = stringField("error", raw); err != nil {
				return err
			}
		case '{':
			var obj map[string]json.RawMessage
			if err := json.Unmarshal(raw, &obj); err != nil {
				return fieldErr("error", "is not a valid object")
			}
			if cb.ErrorMessage, err = optionalText(obj, "message"); err != nil {
				return fieldErr("error.message", "must be a string")
			}
			if code, ok := obj["code"]; ok && !isNull(code) && cb.ErrorCode == "" {
				if cb.ErrorCode, err = textOrNumber("error.code", code); err != nil {
					return err
				}
			}
		default:
			return fieldErr("error", "must be a string or an object with message and code, got %s", jsonKind(raw))
		}
	}
	cb.ErrorMessage = clipText(strings.TrimSpace(cb.ErrorMessage), 2000)
	cb.ErrorCode = clipText(strings.TrimSpace(cb.ErrorCode), 100)
	if cb.ErrorMessage == "" {
		cb.ErrorMessage = "n8n reported a failure without a message"
	}
	return nil
}

func parseImages(fields map[string]json.RawMessage) ([]CallbackImage, error) {
	var images []CallbackImage
	if raw, ok := fields["images"]; ok && !isNull(raw) {
		raw = bytes.TrimSpace(raw)
		if raw[0] != '[' {
			return nil, fieldErr("images", "must be a list of image objects, got %s", jsonKind(raw))
		}
		list, err := splitArray(raw)
		if err != nil {
			return nil, fieldErr("images", "is not a valid list")
		}
		if len(list) > app.MaxImagesPerResult {
			return nil, fieldErr("images", "has %d images, at most %d are accepted per callback", len(list), app.MaxImagesPerResult)
		}
		for i, item := range list {
			field := fmt.Sprintf("images[%d]", i)
			item = bytes.TrimSpace(item)
			if len(item) == 0 || item[0] != '{' {
				return nil, fieldErr(field, "must be an object with url or base64, got %s", jsonKind(item))
			}
			obj, err := splitObject(item)
			if err != nil {
				return nil, fieldErr(field, "is not a valid object")
			}
			img, err := parseImage(field, obj,
				[]string{"url", "image_url"}, []string{"base64", "image_base64", "data"}, []string{"mime_type", "format"})
			if err != nil {
				return nil, err
			}
			images = append(images, img)
		}
	}
	_, hasURL := fields["image_url"]
	_, hasB64 := fields["image_base64"]
	_, hasData := fields["image_data"]
	if hasURL || hasB64 || hasData {
		img, err := parseImage("image", fields,
			[]string{"image_url"}, []string{"image_base64", "image_data"}, []string{"image_format", "mime_type"})
		if err != nil {
			return nil, err
		}
		if img.URL != "" || img.Base64 != "" {
			images = append(images, img)
		}
	}
	if len(images) > app.MaxImagesPerResult {
		return nil, fieldErr("images", "has %d images, at most %d are accepted per callback", len(images), app.MaxImagesPerResult)
	}
	if len(images) == 0 {
		return nil, fieldErr("images", "a success callback needs at least one image: send images, image_url or image_base64")
	}
	return images, nil
}

func parseImage(field string, obj map[string]json.RawMessage, urlKeys, b64Keys, mimeKeys []string) (CallbackImage, error) {
	img := CallbackImage{Field: field}
	var err error
	if img.URL, err = optionalText(obj, urlKeys...); err != nil {
		return img, err
	}
	if img.Base64, err = optionalText(obj, b64Keys...); err != nil {
		return img, err
	}
	if img.URL == "" && img.Base64 == "" && field != "image" {
		return img, fieldErr(field, "has neither %s nor %s", urlKeys[0], b64Keys[0])
	}
	mime, err := optionalText(obj, mimeKeys...)
	if err != nil {
		return img, err
	}
	img.MimeType = normaliseMime(mime)
	for _, dim := range []struct {
		key string
		dst *int
	}{{"width", &img.Width}, {"height", &img.Height}} {
		if raw, ok := obj[dim.key]; ok && !isNull(raw) {
			v, err := intField(prefixed(field, dim.key), raw)
			if err != nil {
				return img, err
			}
			if v < 0 || v > 1<<20 {
				return img, fieldErr(prefixed(field, dim.key), "%d is out of range", v)
			}
			*dim.dst = int(v)
		}
	}
	if raw, ok := obj["seed"]; ok && !isNull(raw) {
		v, err := intField(prefixed(field, "seed"), raw)
		if err != nil {
			return img, err
		}
		img.Seed = &v
	}
	return img, nil
}

// prefixed names a field inside an image object; top-level image fields
// keep their own names.
func prefixed(field, key string) string {
	if field == "image" {
		return key
	}
	return field + "." + key
}

func normaliseMime(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	switch s {
	case "png", "image/png":
		return "image/png"
	case "jpg", "jpeg", "image/jpeg", "image/jpg":
		return "image/jpeg"
	case "webp", "image/webp":
		return "image/webp"
	case "gif", "image/gif":
		return "image/gif"
	}
	return clipText(s, 50)
}

// optionalText returns the first present, non-null key as a string.
func optionalText(obj map[string]json.RawMessage, keys ...string) (string, error) {
	for _, k := range keys {
		if raw, ok := obj[k]; ok && !isNull(raw) {
			return textOrNumber(k, raw)
		}
	}
	return "", nil
}

// textOrNumber accepts a string or a number (n8n expressions produce either).
func textOrNumber(field string, raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && (raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9')) {
		return string(raw), nil
	}
	return stringField(field, raw)
}

func stringField(field string, raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '"' {
		return "", fieldErr(field, "must be a string, got %s", jsonKind(raw))
	}
	if s, ok := plainJSONString(raw); ok {
		return s, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fieldErr(field, "is not a valid JSON string")
	}
	return s, nil
}

// plainJSONString is the fast path for strings without escapes (base64
// image data is ~all of a callback's bytes): the body was validated as a
// whole already, so unquoting it through the decoder would only double
// the cost.
func plainJSONString(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[len(raw)-1] != '"' {
		return "", false
	}
	inner := raw[1 : len(raw)-1]
	// The document was validated as a whole: no raw control byte or bare
	// quote is left inside a string, only escapes and non-ASCII bytes
	// (which the full decoder turns into runes) need a look.
	for _, c := range inner {
		if c == '\\' || c >= 0x80 {
			return "", false
		}
	}
	// An alias, not a copy: the body is never written after it is read.
	return aliasString(inner), true
}

// intField accepts a whole number, or a string holding one.
func intField(field string, raw json.RawMessage) (int64, error) {
	raw = bytes.TrimSpace(raw)
	text := string(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, fieldErr(field, "is not a valid JSON string")
		}
		text = strings.TrimSpace(s)
	} else if len(raw) == 0 || !(raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9')) {
		return 0, fieldErr(field, "must be a whole number, got %s", jsonKind(raw))
	}
	v, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		if f, ferr := strconv.ParseFloat(text, 64); ferr == nil && f == float64(int64(f)) {
			return int64(f), nil
		}
		return 0, fieldErr(field, "must be a whole number, got %q", clipText(text, 40))
	}
	return v, nil
}

func isNull(raw json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(raw), []byte("null")) }

func isJSONScalar(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] != '{' && raw[0] != '[' && len(raw) <= 100
}

func jsonKind(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// plainJSONError keeps the decoder's position but not its echo of input.
func plainJSONError(err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Sprintf("syntax error at byte %d", syn.Offset)
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		return fmt.Sprintf("unexpected %s at byte %d", typ.Value, typ.Offset)
	}
	return "malformed"
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// truncate shortens s to at most n runes for messages and stored text.
func clipText(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

// URLField names the image's URL in messages.
func (img CallbackImage) URLField() string {
	if img.Field == "image" {
		return "image_url"
	}
	return img.Field + ".url"
}

// DataField names the image's inline data in messages.
func (img CallbackImage) DataField() string {
	if img.Field == "image" {
		return "image_base64"
	}
	return img.Field + ".base64"
}
