package n8n

import (
	"bytes"
	"image"
	"image/png"
	"testing"
	"time"
)

// BenchmarkSimImageCompression compares the simulator's PNG setting
// (BestSpeed) with Go's default compression on a 1024×1024 demo picture:
// the demo draws one per callback, so encode time is what a person waits.
func BenchmarkSimImageCompression(b *testing.B) {
	raw := SimImage("a red fox in a snowy forest", 42, 0, 1024, 1024)
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		b.Fatal(err)
	}
	measure := func(level png.CompressionLevel, m image.Image) (time.Duration, int) {
		var buf bytes.Buffer
		start := time.Now()
		enc := png.Encoder{CompressionLevel: level}
		if err := enc.Encode(&buf, m); err != nil {
			b.Fatal(err)
		}
		return time.Since(start), buf.Len()
	}
	var fastT, defT time.Duration
	var fastN, defN int
	for b.Loop() {
		t, n := measure(png.BestSpeed, img)
		fastT, fastN = fastT+t, n
		t, n = measure(png.DefaultCompression, img)
		defT, defN = defT+t, n
	}
	b.ReportMetric(float64(fastT.Milliseconds())/float64(b.N), "bestspeed-ms/op")
	b.ReportMetric(float64(defT.Milliseconds())/float64(b.N), "default-ms/op")
	b.ReportMetric(float64(defT)/float64(fastT), "speedup")
	b.ReportMetric(float64(fastN)/float64(defN), "size-ratio")
}
