//go:build load && !unix

package n8n

import "time"

// processCPU is not read here; the load command prints "n/a".
func processCPU() time.Duration { return 0 }
