package app

import (
	"context"
	"sync"
)

// RunWorkers runs the sender and the timeout sweeper of s with their
// defaults until ctx ends, and returns once both stopped: every in-flight
// send has recorded its outcome by then. `serve`, the dashboard and the demo
// start it once, next to the callback listener and the ingest worker.
func (s *Service) RunWorkers(ctx context.Context) error {
	var wg sync.WaitGroup
	errs := make([]error, 2)
	wg.Go(func() { errs[0] = (&Sender{Service: s}).Run(ctx) })
	wg.Go(func() { errs[1] = (&Sweeper{Service: s}).Run(ctx) })
	wg.Wait()
	if errs[0] != nil {
		return errs[0]
	}
	return errs[1]
}
