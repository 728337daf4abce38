package n8n

import (
	"bytes"
	"hash/fnv"
	"image"
	"image/png"
	"math"
	"math/rand/v2"
)

// simMaxSide caps the simulator's pictures: the demo must stay quick on a
// laptop, and a 1024 px preview is plenty to see that seeds differ.
const simMaxSide = 1024

// simSize scales w×h down so that neither side exceeds maxSide, keeping the
// aspect ratio (at least 1 px per side).
func simSize(w, h, maxSide int) (int, int) {
	if w <= 0 || h <= 0 {
		w, h = maxSide, maxSide
	}
	if w <= maxSide && h <= maxSide {
		return w, h
	}
	scale := float64(maxSide) / float64(max(w, h))
	return max(1, int(math.Round(float64(w)*scale))), max(1, int(math.Round(float64(h)*scale)))
}

// SimImage draws the simulator's picture for a prompt and seed: the same
// pair always gives the same bytes, and a different seed (or prompt) gives a
// visibly different picture — a gradient sky, soft discs and bars, and fine
// grain — so a person can tell results apart at a glance.
func SimImage(prompt string, seed int64, index, width, height int) []byte {
	w, h := simSize(width, height, simMaxSide)
	hash := fnv.New64a()
	_, _ = hash.Write([]byte(prompt))
	rng := rand.New(rand.NewPCG(hash.Sum64(), uint64(seed)*0x9E3779B97F4A7C15+uint64(index)))

	// Two colours from the prompt+seed and a direction for the gradient.
	c0, c1 := randomColour(rng), randomColour(rng)
	angle := rng.Float64() * 2 * math.Pi
	dx, dy := math.Cos(angle), math.Sin(angle)

	type disc struct {
		cx, cy, r float64
		col       [3]float64
		alpha     float64
	}
	type bar struct {
		x0, y0, x1, y1 float64
		col            [3]float64
		alpha          float64
	}
	discs := make([]disc, 3+rng.IntN(5))
	for i := range discs {
		discs[i] = disc{
			cx: rng.Float64(), cy: rng.Float64(), r: 0.05 + rng.Float64()*0.25,
			col: randomColour(rng), alpha: 0.35 + rng.Float64()*0.5,
		}
	}
	bars := make([]bar, 1+rng.IntN(3))
	for i := range bars {
		x, y := rng.Float64(), rng.Float64()
		bars[i] = bar{x0: x, y0: y, x1: x + 0.1 + rng.Float64()*0.4, y1: y + 0.03 + rng.Float64()*0.12,
			col: randomColour(rng), alpha: 0.4 + rng.Float64()*0.4}
	}
	grain := rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64()))

	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	fw, fh := float64(w), float64(h)
	for y := 0; y < h; y++ {
		v := (float64(y) + 0.5) / fh
		row := img.Pix[y*img.Stride : y*img.Stride+w*4]
		for x := 0; x < w; x++ {
			u := (float64(x) + 0.5) / fw
			t := clamp01(0.5 + ((u-0.5)*dx+(v-0.5)*dy)*0.9)
			px := [3]float64{
				c0[0] + (c1[0]-c0[0])*t,
				c0[1] + (c1[1]-c0[1])*t,
				c0[2] + (c1[2]-c0[2])*t,
			}
			// Discs are in units of the shorter side so they stay round.
			for _, d := range discs {
				ddx, ddy := (u-d.cx)*fw, (v-d.cy)*fh
				dist := math.Sqrt(ddx*ddx+ddy*ddy) / math.Min(fw, fh)
				if dist < d.r {
					a := d.alpha * clamp01((d.r-dist)/(d.r*0.15))
					blend(&px, d.col, a)
				}
			}
			for _, b := range bars {
				if u >= b.x0 && u <= b.x1 && v >= b.y0 && v <= b.y1 {
					blend(&px, b.col, b.alpha)
				}
			}
			// Low-amplitude grain: visible texture without bloating the PNG.
			n := float64(grain.IntN(9)) - 4
			o := x * 4
			row[o] = toByte(px[0] + n)
			row[o+1] = toByte(px[1] + n)
			row[o+2] = toByte(px[2] + n)
			row[o+3] = 0xff
		}
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, img); err != nil {
		// Encoding an in-memory NRGBA into a bytes.Buffer cannot fail.
		panic("simulator: png encode: " + err.Error())
	}
	return buf.Bytes()
}

// randomColour draws a saturated, fairly bright colour (HSV), so demo
// pictures look lively rather than muddy.
func randomColour(rng *rand.Rand) [3]float64 {
	h, sat, val := rng.Float64()*6, 0.55+rng.Float64()*0.45, 0.6+rng.Float64()*0.4
	c := val * sat
	x := c * (1 - math.Abs(math.Mod(h, 2)-1))
	var r, g, b float64
	switch int(h) {
	case 0:
		r, g = c, x
	case 1:
		r, g = x, c
	case 2:
		g, b = c, x
	case 3:
		g, b = x, c
	case 4:
		r, b = x, c
	default:
		r, b = c, x
	}
	m := val - c
	return [3]float64{(r + m) * 255, (g + m) * 255, (b + m) * 255}
}

func blend(px *[3]float64, col [3]float64, a float64) {
	for i := range px {
		px[i] = px[i]*(1-a) + col[i]*a
	}
}

func clamp01(f float64) float64 { return math.Min(1, math.Max(0, f)) }

func toByte(f float64) uint8 { return uint8(math.Min(255, math.Max(0, math.Round(f)))) }
