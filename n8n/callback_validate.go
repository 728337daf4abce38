package n8n

import (
	"encoding/binary"
	"encoding/json"
)

// One validating pass over a callback body (issue 17).
//
// json.Valid followed by splitting the top-level object walked every byte
// twice, and json.Valid's state machine costs a function call per byte.
// validTopObject checks the whole document by the grammar of RFC 8259
// (exactly what json.Valid accepts: FuzzValidTopObject compares the two)
// and returns the top-level members in the same pass. Strings, which are
// almost all of a callback's bytes (base64 images), are scanned by a
// table lookup per byte and leave the loop only at a quote, a backslash,
// a control character or a non-ASCII byte.
//
// encoding/json/v2 (GOEXPERIMENT=jsonv2) validates at about the speed of
// json.Valid on these bodies and would not split in the same pass, and the
// experiment would have to be set in every build script; see BENCHMARKS.md
// "Callback ack path (#17)".

// maxJSONDepth is encoding/json's nesting limit: deeper documents are
// invalid for json.Valid too.
const maxJSONDepth = 10000

// plainStringByte marks the bytes a JSON string may hold as they are and
// that need no further look: printable ASCII except '"' and '\\'.
var plainStringByte = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// validTopObject validates raw (a JSON object, with optional surrounding
// whitespace) and returns its members aliasing raw; a repeated key keeps
// its last value, as json.Unmarshal does. ok is false for anything
// json.Valid would refuse, and for a valid document that is not an object.
func validTopObject(raw []byte) (fields map[string]json.RawMessage, ok bool) {
	v := jsonValidator{raw: raw}
	i := v.space(0)
	if i >= len(raw) || raw[i] != '{' {
		return nil, false
	}
	fields = make(map[string]json.RawMessage, 8)
	end := v.object(i, 1, func(key []byte, start, end int) bool {
		name, err := jsonKey(key)
		if err != nil {
			return false
		}
		fields[name] = raw[start:end:end]
		return true
	})
	if end < 0 || v.space(end) != len(raw) {
		return nil, false
	}
	return fields, true
}

// jsonValidator walks one document. Every method takes the index of the
// first byte of its production and returns the index just past it, or -1.
type jsonValidator struct{ raw []byte }

func (v *jsonValidator) space(i int) int {
	for i < len(v.raw) {
		switch v.raw[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

func (v *jsonValidator) value(i, depth int) int {
	if i >= len(v.raw) {
		return -1
	}
	switch c := v.raw[i]; {
	case c == '"':
		return v.str(i)
	case c == '{':
		return v.object(i, depth+1, nil)
	case c == '[':
		return v.array(i, depth+1)
	case c == 't':
		return v.literal(i, "true")
	case c == 'f':
		return v.literal(i, "false")
	case c == 'n':
		return v.literal(i, "null")
	case c == '-' || (c >= '0' && c <= '9'):
		return v.number(i)
	}
	return -1
}

// object validates the object at raw[i] and calls member (if not nil)
// with each key (quoted) and the bounds of its value.
func (v *jsonValidator) object(i, depth int, member func(key []byte, start, end int) bool) int {
	if depth > maxJSONDepth {
		return -1
	}
	i = v.space(i + 1)
	if i < len(v.raw) && v.raw[i] == '}' {
		return i + 1
	}
	for i < len(v.raw) && v.raw[i] == '"' {
		keyEnd := v.str(i)
		if keyEnd < 0 {
			return -1
		}
		j := v.space(keyEnd)
		if j >= len(v.raw) || v.raw[j] != ':' {
			return -1
		}
		start := v.space(j + 1)
		end := v.value(start, depth)
		if end < 0 || (member != nil && !member(v.raw[i:keyEnd], start, end)) {
			return -1
		}
		i = v.space(end)
		if i >= len(v.raw) {
			return -1
		}
		switch v.raw[i] {
		case ',':
			i = v.space(i + 1)
		case '}':
			return i + 1
		default:
			return -1
		}
	}
	return -1
}

func (v *jsonValidator) array(i, depth int) int {
	if depth > maxJSONDepth {
		return -1
	}
	i = v.space(i + 1)
	if i < len(v.raw) && v.raw[i] == ']' {
		return i + 1
	}
	for {
		end := v.value(i, depth)
		if end < 0 {
			return -1
		}
		i = v.space(end)
		if i >= len(v.raw) {
			return -1
		}
		switch v.raw[i] {
		case ',':
			i = v.space(i + 1)
		case ']':
			return i + 1
		default:
			return -1
		}
	}
}

// str validates the string at raw[i] == '"'. Like json.Valid it accepts
// any byte from 0x80 up (the decoder replaces invalid UTF-8 later).
func (v *jsonValidator) str(i int) int {
	raw := v.raw
	for j := i + 1; j < len(raw); {
		j = plainRun(raw, j)
		if j >= len(raw) {
			break
		}
		c := raw[j]
		if plainStringByte[c] || c >= 0x80 {
			j++
			continue
		}
		switch {
		case c == '"':
			return j + 1
		case c < 0x20:
			return -1
		}
		// A backslash: one of the short escapes, or \u and four hex digits.
		if j+1 >= len(raw) {
			return -1
		}
		switch raw[j+1] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			j += 2
		case 'u':
			if j+6 > len(raw) || !isHex(raw[j+2]) || !isHex(raw[j+3]) || !isHex(raw[j+4]) || !isHex(raw[j+5]) {
				return -1
			}
			j += 6
		default:
			return -1
		}
	}
	return -1
}

// plainRun returns the index of the first byte from j on that a string
// cannot hold as it is (a quote, a backslash or a control character),
// or len(raw), looking at eight bytes per step (SWAR: the "has a byte
// less than n" and "has a zero byte" word tricks; bytes from 0x80 up are
// never flagged, as a string may hold them).
func plainRun(raw []byte, j int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for ; j+8 <= len(raw); j += 8 {
		w := binary.LittleEndian.Uint64(raw[j:])
		quote, backslash := w^(ones*'"'), w^(ones*'\\')
		special := (w - ones*0x20) &^ w
		special |= (quote - ones) &^ quote
		special |= (backslash - ones) &^ backslash
		if special&highs != 0 {
			break
		}
	}
	for ; j < len(raw); j++ {
		if c := raw[j]; !plainStringByte[c] && c < 0x80 {
			return j
		}
	}
	return j
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func (v *jsonValidator) literal(i int, word string) int {
	if len(v.raw)-i < len(word) || string(v.raw[i:i+len(word)]) != word {
		return -1
	}
	return i + len(word)
}

// number validates -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
func (v *jsonValidator) number(i int) int {
	raw := v.raw
	digits := func(j int) int { // at least one digit
		start := j
		for j < len(raw) && raw[j] >= '0' && raw[j] <= '9' {
			j++
		}
		if j == start {
			return -1
		}
		return j
	}
	if raw[i] == '-' {
		i++
	}
	switch {
	case i < len(raw) && raw[i] == '0':
		i++
	default:
		if i = digits(i); i < 0 {
			return -1
		}
	}
	if i < len(raw) && raw[i] == '.' {
		if i = digits(i + 1); i < 0 {
			return -1
		}
	}
	if i < len(raw) && (raw[i] == 'e' || raw[i] == 'E') {
		i++
		if i < len(raw) && (raw[i] == '+' || raw[i] == '-') {
			i++
		}
		if i = digits(i); i < 0 {
			return -1
		}
	}
	return i
}
