package n8n

import (
	"net/netip"
	"strconv"
	"strings"
)

// hostIP reads host as an IP address the way the system resolver would
// (inet_aton): besides the usual forms, 2130706433, 0x7f000001, 127.1,
// 0177.0.0.1, 0 and a trailing dot (127.0.0.1.) all name an address.
// Go's own parser refuses those, and a name it refuses is looked up in DNS
// — so without this the pre-ack check would pass them and the fetch would
// reach loopback (issue 10 §15).
func hostIP(host string) (netip.Addr, bool) {
	h := strings.Trim(host, "[]")
	if ip, err := netip.ParseAddr(h); err == nil {
		return ip.Unmap(), true
	}
	h = strings.TrimSuffix(h, ".")
	if ip, err := netip.ParseAddr(h); err == nil {
		return ip.Unmap(), true
	}
	return parseInetAton(h)
}

// parseInetAton implements inet_aton: one to four parts, each decimal,
// octal (leading 0) or hex (0x); the last part fills the remaining bytes.
func parseInetAton(s string) (netip.Addr, bool) {
	parts := strings.Split(s, ".")
	if len(parts) == 0 || len(parts) > 4 {
		return netip.Addr{}, false
	}
	var vals []uint64
	for _, p := range parts {
		v, ok := parseInetPart(p)
		if !ok {
			return netip.Addr{}, false
		}
		vals = append(vals, v)
	}
	var addr uint64
	for i, v := range vals[:len(vals)-1] {
		if v > 255 {
			return netip.Addr{}, false
		}
		addr |= v << (8 * (3 - i))
	}
	last := vals[len(vals)-1]
	if last >= 1<<(8*(5-len(vals))) {
		return netip.Addr{}, false
	}
	addr |= last
	return netip.AddrFrom4([4]byte{byte(addr >> 24), byte(addr >> 16), byte(addr >> 8), byte(addr)}), true
}

func parseInetPart(p string) (uint64, bool) {
	base := 10
	switch {
	case len(p) > 2 && (p[:2] == "0x" || p[:2] == "0X"):
		base, p = 16, p[2:]
	case len(p) > 1 && p[0] == '0':
		base, p = 8, p[1:]
	}
	if p == "" {
		return 0, false
	}
	v, err := strconv.ParseUint(p, base, 33)
	return v, err == nil
}

// looksNumeric reports a host whose last label is a number (decimal or
// 0x hex): browsers and resolvers read such a host as an address, so one
// that is not a valid address is no name either.
func looksNumeric(host string) bool {
	h := strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	label := h[strings.LastIndex(h, ".")+1:]
	if label == "" {
		return false
	}
	if len(label) > 2 && (label[:2] == "0x" || label[:2] == "0X") {
		label = label[2:]
		for _, c := range label {
			if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
				return false
			}
		}
		return true
	}
	for _, c := range label {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
