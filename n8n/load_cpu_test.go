//go:build load && unix

package n8n

import (
	"syscall"
	"time"
)

// processCPU is the CPU time this process has used, user and system: the
// listener, the writer and the ingest workers (the generator and the bare
// handler run in processes of their own). Divided by the callbacks of a
// phase it is their cost end to end, which moves less from run to run than
// a latency does.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
