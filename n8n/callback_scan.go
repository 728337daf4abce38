package n8n

import (
	"bytes"
	"encoding/json"
	"errors"
	"unsafe"
)

// Zero-copy splitting of an already validated JSON document (issue 10 §7).
// json.Unmarshal into map[string]json.RawMessage copies every value, and
// a callback's values are almost all of its bytes (base64 images): three
// nested levels made three copies of a 30 MiB body. These functions return
// sub-slices of the input instead. They assume the input passed json.Valid.

var errNotObject = errors.New("not a JSON object")

// splitObject returns the members of the JSON object raw, aliasing raw.
// A repeated key keeps its last value, as json.Unmarshal does.
func splitObject(raw []byte) (map[string]json.RawMessage, error) {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return nil, errNotObject
	}
	fields := map[string]json.RawMessage{}
	i = skipSpace(raw, i+1)
	if i < len(raw) && raw[i] == '}' {
		return fields, nil
	}
	for i < len(raw) {
		if raw[i] != '"' {
			return nil, errNotObject
		}
		end := skipString(raw, i)
		key, err := jsonKey(raw[i:end])
		if err != nil {
			return nil, err
		}
		i = skipSpace(raw, end)
		if i >= len(raw) || raw[i] != ':' {
			return nil, errNotObject
		}
		start := skipSpace(raw, i+1)
		end = skipValue(raw, start)
		fields[key] = raw[start:end:end]
		i = skipSpace(raw, end)
		if i < len(raw) && raw[i] == ',' {
			i = skipSpace(raw, i+1)
			continue
		}
		if i < len(raw) && raw[i] == '}' {
			return fields, nil
		}
		return nil, errNotObject
	}
	return nil, errNotObject
}

// splitArray returns the elements of the JSON array raw, aliasing raw.
func splitArray(raw []byte) ([]json.RawMessage, error) {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '[' {
		return nil, errors.New("not a JSON array")
	}
	var items []json.RawMessage
	i = skipSpace(raw, i+1)
	if i < len(raw) && raw[i] == ']' {
		return items, nil
	}
	for i < len(raw) {
		end := skipValue(raw, i)
		items = append(items, raw[i:end:end])
		i = skipSpace(raw, end)
		if i < len(raw) && raw[i] == ',' {
			i = skipSpace(raw, i+1)
			continue
		}
		if i < len(raw) && raw[i] == ']' {
			return items, nil
		}
		break
	}
	return nil, errors.New("not a JSON array")
}

func jsonKey(quoted []byte) (string, error) {
	inner := quoted[1 : len(quoted)-1]
	for _, c := range inner {
		if c == '\\' || c >= 0x80 {
			var s string
			err := json.Unmarshal(quoted, &s)
			return s, err
		}
	}
	return string(inner), nil
}

func skipSpace(raw []byte, i int) int {
	for i < len(raw) && (raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\n' || raw[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index just past the string starting at raw[i].
// It jumps from quote to quote (bytes.IndexByte is vectorised: a base64
// image is crossed at memory speed) and counts the backslashes before
// each one: an odd count escapes it.
func skipString(raw []byte, i int) int {
	for j := i + 1; j < len(raw); j++ {
		k := bytes.IndexByte(raw[j:], '"')
		if k < 0 {
			break
		}
		j += k
		escapes := 0
		for p := j - 1; p > i && raw[p] == '\\'; p-- {
			escapes++
		}
		if escapes%2 == 0 {
			return j + 1
		}
	}
	return len(raw)
}

// skipValue returns the index just past the value starting at raw[i].
func skipValue(raw []byte, i int) int {
	if i >= len(raw) {
		return i
	}
	switch raw[i] {
	case '"':
		return skipString(raw, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(raw); j++ {
			switch raw[j] {
			case '"':
				j = skipString(raw, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return len(raw)
	}
	j := i
	for j < len(raw) && raw[j] != ',' && raw[j] != '}' && raw[j] != ']' && raw[j] != ' ' && raw[j] != '\t' && raw[j] != '\n' && raw[j] != '\r' {
		j++
	}
	return j
}

// aliasString views b as a string without copying. Only for bytes that are
// never written again: a callback body is read once into its own buffer
// and only read afterwards.
func aliasString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
