package app

import (
	"crypto/rand"
	"encoding/binary"
	"strings"
	"sync"
	"time"
)

// crockford is the ULID alphabet: sortable, no I, L, O or U.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// IDSource makes ULIDs: 48 bits of milliseconds then 80 random bits,
// monotonic within one millisecond so ids made together sort in order.
type IDSource struct {
	mu       sync.Mutex
	lastMS   uint64
	lastRand [10]byte
}

var defaultIDs IDSource

// NewID returns a new ULID from the process-wide source.
func NewID(now time.Time) string { return defaultIDs.New(now) }

// New returns a ULID for the given time.
func (s *IDSource) New(now time.Time) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ms := uint64(now.UnixMilli())
	if ms <= s.lastMS {
		ms = s.lastMS
		incr(&s.lastRand)
	} else {
		s.lastMS = ms
		_, _ = rand.Read(s.lastRand[:]) // crypto/rand never fails on supported platforms
	}
	var b [16]byte
	binary.BigEndian.PutUint16(b[0:2], uint16(ms>>32))
	binary.BigEndian.PutUint32(b[2:6], uint32(ms))
	copy(b[6:], s.lastRand[:])
	return encodeULID(b)
}

func incr(r *[10]byte) {
	for i := len(r) - 1; i >= 0; i-- {
		r[i]++
		if r[i] != 0 {
			return
		}
	}
}

func encodeULID(b [16]byte) string {
	// 128 bits as 26 base-32 digits, most significant first (the first digit holds 3 bits).
	hi := binary.BigEndian.Uint64(b[0:8])
	lo := binary.BigEndian.Uint64(b[8:16])
	var out [26]byte
	for i := 25; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}

// ValidID reports whether s looks like one of our request ids.
func ValidID(s string) bool {
	if len(s) != 26 || s[0] > '7' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune(crockford, rune(s[i])) {
			return false
		}
	}
	return true
}
