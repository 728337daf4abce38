package n8n

import (
	"sync"
	"unsafe"
)

// Pooled buffers of the ack path (issue 17). A callback's body and the
// decoded picture it carries are needed only until the reply is written,
// so their buffers go back to a pool instead of becoming garbage per ack.
// Only small buffers are pooled: a pool keeps what it is given until the
// next GCs, and a large body is rare and already paid for by the budgets.

// maxPooled is the largest buffer kept for reuse: the free body prefix.
const maxPooled = freeBodyPrefix

var scratchPool = sync.Pool{New: func() any { b := make([]byte, 0, maxPooled); return &b }}

// getScratch returns a buffer of length n, pooled when n is small.
func getScratch(n int) *[]byte {
	if n > maxPooled {
		b := make([]byte, n)
		return &b
	}
	b := scratchPool.Get().(*[]byte)
	*b = (*b)[:n]
	return b
}

// putScratch hands b back; nothing may use it afterwards.
func putScratch(b *[]byte) {
	if cap(*b) != maxPooled {
		return // not one of ours
	}
	*b = (*b)[:0]
	scratchPool.Put(b)
}

// aliasBytes views s as bytes without copying, for APIs that only read
// their input (base64 decoding of a body's string).
func aliasBytes(s string) []byte {
	if s == "" {
		return nil
	}
	return unsafe.Slice(unsafe.StringData(s), len(s))
}
