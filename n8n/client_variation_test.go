package n8n_test

import (
	"bytes"
	"testing"

	"github.com/influencegen/influencegen/n8n"
)

// Issue 14: a "more like this" request names the image it varies in the
// free variation_of field; any other request's payload is as DESIGN §4.
func TestPayloadNamesTheVariedImageOnlyForAVariation(t *testing.T) {
	req := sampleRequest()
	plain, err := n8n.Payload(req, sampleCallback, "1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	req.VariationOf = 812
	varied, err := n8n.Payload(req, sampleCallback, "1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(plain, []byte("variation_of")) || !bytes.HasSuffix(varied, []byte(`"client":"influencegen/1.0.0","variation_of":812}`)) {
		t.Errorf("payloads = %s / %s", plain, varied)
	}
}
