package n8n

import (
	"encoding/json"
	"testing"
	"time"
)

// BenchmarkValidateCallbackBody compares, in one run, what the ack did
// before issue 17 (json.Valid, then splitting the top level) with the one
// validating pass that splits as it goes, on the ~13 KB body of the ack
// benchmarks, and reports the speed-up.
//
//	go test ./n8n -run '^$' -bench BenchmarkValidateCallbackBody -count 3
func BenchmarkValidateCallbackBody(b *testing.B) {
	body := ackBody("01JDX3V6Q6T7ZP3Y6N4B1K9S2E", ackPicture(b), 1)
	b.SetBytes(int64(len(body)))
	var twoPass, onePass time.Duration
	for b.Loop() {
		t0 := time.Now()
		if !json.Valid(body) {
			b.Fatal("invalid")
		}
		if _, err := splitObject(body); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, ok := validTopObject(body); !ok {
			b.Fatal("invalid")
		}
		onePass += time.Since(t1)
		twoPass += t1.Sub(t0)
	}
	b.ReportMetric(float64(twoPass.Nanoseconds())/float64(b.N), "valid+split-ns")
	b.ReportMetric(float64(onePass.Nanoseconds())/float64(b.N), "onepass-ns")
	b.ReportMetric(float64(twoPass)/float64(onePass), "speedup")
}
