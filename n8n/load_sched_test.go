//go:build load

package n8n

import (
	"fmt"
	"math"
	"runtime/metrics"
	"slices"
	"time"
)

// schedWaits is the Go runtime's histogram of how long goroutines waited,
// runnable, for a CPU (/sched/latencies:seconds). On 2 cores the writer
// shares the processors with 64 handlers, the ingest workers and the
// checkpointer: a long wait there is an ack's latency that no disk or SQL
// change removes.
type schedWaits struct {
	counts  []uint64
	buckets []float64 // len(counts)+1 boundaries, in seconds
}

const schedMetric = "/sched/latencies:seconds"

func readSchedWaits() schedWaits {
	s := []metrics.Sample{{Name: schedMetric}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindFloat64Histogram {
		return schedWaits{}
	}
	h := s[0].Value.Float64Histogram()
	return schedWaits{counts: slices.Clone(h.Counts), buckets: h.Buckets}
}

// sub is what happened between before and s.
func (s schedWaits) sub(before schedWaits) schedWaits {
	out := schedWaits{counts: slices.Clone(s.counts), buckets: s.buckets}
	for i := range min(len(out.counts), len(before.counts)) {
		out.counts[i] -= before.counts[i]
	}
	return out
}

// quantile is the upper boundary of the bucket holding the q-th wait.
func (s schedWaits) quantile(q float64) time.Duration {
	var total uint64
	for _, c := range s.counts {
		total += c
	}
	if total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(total)))
	var seen uint64
	for i, c := range s.counts {
		if seen += c; seen >= rank {
			hi := s.buckets[i+1]
			if math.IsInf(hi, 1) {
				hi = s.buckets[i]
			}
			return time.Duration(hi * float64(time.Second))
		}
	}
	return 0
}

func (s schedWaits) String() string {
	return fmt.Sprintf("runnable waits p50 ≤ %s ms, p99 ≤ %s ms, p99.9 ≤ %s ms",
		num(ms(s.quantile(0.5))), num(ms(s.quantile(0.99))), num(ms(s.quantile(0.999))))
}
