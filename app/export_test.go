package app

// SetRecoveryHook runs f after Recover has read the requests it will try to
// recover and before its compare-and-set: the tests force the interleaving
// of two processes with it.
func (s *Sender) SetRecoveryHook(f func(stale []Request)) {
	s.init()
	s.hook = f
}
