package n8n

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
)

// FuzzParseCallback feeds the parser arbitrary bodies. It must never
// panic; what it accepts must be a complete, normalised callback that
// survives the round trip through the delivery inbox; what it refuses must
// be a 400-style error naming a field.
func FuzzParseCallback(f *testing.F) {
	f.Add([]byte(`{"ai_generation_request_id":"01JDX3V6Q6T7ZP3Y6N4B1K9S2E","status":"success","image_url":"http://127.0.0.1:5678/x.png","image_format":"png","width":1024,"height":1024,"seed":123456789}`))
	f.Add([]byte(`{"ai_generation_request_id":42,"status":"failed","error":{"message":"boom","code":7}}`))
	f.Add([]byte(`{"jsonrpc":"2.0","id":1,"params":{"request_id":"7","status":"ok","images":[{"data":"iVBORw0KGgo=","format":"png"}]}}`))
	f.Add([]byte(`[1,2,3]`))
	f.Add([]byte(`{"status":"success","images":[{"url":"http://a/b"},{"base64":"AAAA","seed":"9"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		cb, err := ParseCallback(body)
		if err != nil {
			var e *app.Error
			if !asAppError(err, &e) || e.Code != app.EINVALID || e.Field == "" || !strings.HasPrefix(e.Message, e.Field+": ") {
				t.Fatalf("refusal %v is not a field error", err)
			}
			return
		}
		switch cb.Status {
		case CallbackFailed:
			if cb.ErrorMessage == "" || len(cb.Images) != 0 {
				t.Fatalf("failure without message or with images: %+v", cb)
			}
		case CallbackSuccess:
			if len(cb.Images) == 0 || len(cb.Images) > app.MaxImagesPerResult {
				t.Fatalf("success with %d images", len(cb.Images))
			}
			for _, img := range cb.Images {
				if img.URL == "" && img.Base64 == "" {
					t.Fatalf("image without a source: %+v", img)
				}
			}
		default:
			t.Fatalf("status %q", cb.Status)
		}
		// The listener stores the bytes received and ingest parses them
		// again: the second parse must give the same callback.
		again, err := ParseCallback(body)
		if err != nil || !reflect.DeepEqual(cb, again) {
			t.Fatalf("a second parse differs: %v\n%+v\n%+v", err, cb, again)
		}
		// A row written by an older version holds the normalised callback;
		// ingest reads it with the same parser.
		legacy, err := encodeDelivery(cb)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseCallback(legacy)
		if err != nil {
			t.Fatalf("an older delivery row does not parse: %v\n%s", err, legacy)
		}
		cb.RPC, cb.RPCID, cb.RequestRef, cb.metadataDropped = false, nil, "", false
		if len(cb.Metadata) > 0 {
			// Metadata is kept as raw JSON; compare it by meaning.
			var a, b any
			_ = json.Unmarshal(cb.Metadata, &a)
			_ = json.Unmarshal(back.Metadata, &b)
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("metadata changed: %s → %s", cb.Metadata, back.Metadata)
			}
			cb.Metadata, back.Metadata = nil, nil
		}
		for i := range back.Images {
			back.Images[i].Field = cb.Images[i].Field // where it was in the payload: messages only
		}
		if !reflect.DeepEqual(cb, back) {
			t.Fatalf("an older delivery row parses to a different callback:\n%+v\n%+v", cb, back)
		}
	})
}

// FuzzValidTopObject: the one-pass validator accepts exactly what
// json.Valid accepts among objects, and splits like json.Unmarshal.
func FuzzValidTopObject(f *testing.F) {
	for _, seed := range []string{`{"a":1,"b":"x\"y","c":{"d":[1,{"e":"]}"}]},"a":2}`, `{ "k\u00e9y" : -0.5e+3 , "n":null,"t":true,"arr":[ ] }`,
		`{"long":"abcdefghijklmnop\"qrstuvwxyz0123456789\\u00e9ABCDEFGH"}`, "{\"long\":\"abcdefghijklmn\x1fopqrstuvwxyz\"}",
		"{\"long\":\"abcdefgh\xc3\xa9ijklmnopqrstu\\\\\"}", `{"x":"abcdefg"}`, `{"x":"abcdefgh"}`, `{"x":"abcdefghi`,
		`{}`, `{"a":01}`, `{"a":"\x"}`, "{\"a\":\"\x01\"}", `{"a":[1,]}`, `{"a":1} x`, `{"\xff":"\xfe"}`, `{"a":tru}`, `{"a":1.}`, `{"a":"\u12G4"}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, ok := validTopObject(raw)
		trimmed := bytes.TrimSpace(raw)
		want := json.Valid(raw) && len(trimmed) > 0 && trimmed[0] == '{'
		if ok != want {
			t.Fatalf("validTopObject ok = %v, json.Valid (object) = %v for %q", ok, want, raw)
		}
		if !ok {
			return
		}
		var members map[string]json.RawMessage
		if err := json.Unmarshal(raw, &members); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(members) {
			t.Fatalf("%d members, want %d", len(got), len(members))
		}
		for k, v := range members {
			if !bytes.Equal(got[k], bytes.TrimSpace(v)) {
				t.Fatalf("member %q = %s, want %s", k, got[k], v)
			}
		}
	})
}

func asAppError(err error, target **app.Error) bool {
	return errors.As(err, target)
}

// FuzzVerifySignature checks that a signature made for a body verifies,
// that any change to the body or id is refused, and that arbitrary
// signature headers never panic or pass.
func FuzzVerifySignature(f *testing.F) {
	f.Add([]byte("secret-key"), "msg_2Kx", []byte(`{"status":"success"}`), "v1,AAAA")
	f.Add([]byte{0}, "", []byte{}, "v1, v1,,,, v2,xyz")
	f.Add([]byte("k"), "id", []byte("body"), strings.Repeat("v1,", 100))
	now := time.Unix(1_800_000_000, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	f.Fuzz(func(t *testing.T, key []byte, id string, body []byte, header string) {
		if len(key) == 0 {
			return
		}
		_ = VerifySignature(key, id, ts, header, body, now) // must not panic
		if id == "" || len(id) > maxWebhookIDLen {
			return
		}
		good := SignWebhook(key, id, now.Unix(), body)
		if err := VerifySignature(key, id, ts, header+" "+good, body, now); err != nil && len(header)+1+len(good) <= maxSignatureHeader {
			t.Fatalf("a valid signature among others was refused: %v", err)
		}
		if err := VerifySignature(key, id, ts, good, append(append([]byte{}, body...), 'x'), now); err == nil {
			t.Fatal("a changed body passed")
		}
		if err := VerifySignature(key, id+"x", ts, good, body, now); err == nil && len(id)+1 <= maxWebhookIDLen {
			t.Fatal("a changed id passed")
		}
	})
}

// FuzzSplitObject: the zero-copy splitter agrees with json.Unmarshal on
// every valid object (issue 10 §7).
func FuzzSplitObject(f *testing.F) {
	f.Add([]byte(`{"a":1,"b":"x\"y","c":{"d":[1,{"e":"]}"}]},"a":2}`))
	f.Add([]byte(`{ "k\u00e9y" : "v" , "n":null,"t":true,"arr":[ ] }`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"images":[{"base64":"AAAA"},{"url":"http://x/y"}]}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		if !json.Valid(raw) {
			return
		}
		var want map[string]json.RawMessage
		wantErr := json.Unmarshal(raw, &want)
		got, err := splitObject(raw)
		if (wantErr != nil || want == nil) != (err != nil) {
			t.Fatalf("splitObject err = %v, json.Unmarshal err = %v (map %v)", err, wantErr, want)
		}
		if err != nil {
			return
		}
		if len(got) != len(want) {
			t.Fatalf("%d members, want %d", len(got), len(want))
		}
		for k, v := range want {
			if !bytes.Equal(bytes.TrimSpace(got[k]), bytes.TrimSpace(v)) {
				t.Fatalf("member %q = %s, want %s", k, got[k], v)
			}
			if bytes.HasPrefix(bytes.TrimSpace(v), []byte("[")) {
				var wantList []json.RawMessage
				_ = json.Unmarshal(v, &wantList)
				gotList, err := splitArray(got[k])
				if err != nil || len(gotList) != len(wantList) {
					t.Fatalf("splitArray(%s) = %d items (%v), want %d", v, len(gotList), err, len(wantList))
				}
			}
		}
	})
}

func TestEncodeDeliveryMatchesJSONMarshal(t *testing.T) {
	seed := int64(7)
	cb := Callback{RequestRef: "01JDX3V6Q6T7ZP3Y6N4B1K9S2E", Status: CallbackSuccess, ExecutionID: "42", Metadata: json.RawMessage(`{"a":[1,2]}`),
		Images: []CallbackImage{
			{Field: "images[0]", Base64: "iVBORw0KGgo=", MimeType: "image/png", Seed: &seed},
			{Field: "images[1]", URL: "https://x.example/a.png?b=<c>&d"},
			{Field: "images[2]", Base64: "data:image/png;base64,\"odd\"\n"},
		}}
	got, err := encodeDelivery(cb)
	if err != nil {
		t.Fatal(err)
	}
	var fromGot, fromWant Callback
	want, _ := json.Marshal(cb)
	if err := json.Unmarshal(got, &fromGot); err != nil {
		t.Fatalf("encodeDelivery wrote invalid JSON: %v\n%s", err, got)
	}
	_ = json.Unmarshal(want, &fromWant)
	g, _ := json.Marshal(fromGot)
	w, _ := json.Marshal(fromWant)
	if !bytes.Equal(g, w) {
		t.Fatalf("encodeDelivery round-trips to\n%s\nwant\n%s", g, w)
	}
	if cap(got) != len(got) {
		t.Errorf("encodeDelivery allocated %d bytes for %d", cap(got), len(got))
	}
}
