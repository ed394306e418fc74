package tjson

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
)

// Encode returns the canonical JSON form of a value tree made of map[string]any, []any, string,
// bool, nil, json.Number (integers only), int, int64, uint32, []string and map[string]string.
func Encode(v any) ([]byte, error) {
	return appendValue(nil, v)
}

func appendValue(dst []byte, v any) ([]byte, error) {
	switch t := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case bool:
		if t {
			return append(dst, "true"...), nil
		}
		return append(dst, "false"...), nil
	case string:
		return appendCanonicalString(dst, t), nil
	case int:
		return strconv.AppendInt(dst, int64(t), 10), nil
	case int64:
		return strconv.AppendInt(dst, t, 10), nil
	case uint32:
		return strconv.AppendUint(dst, uint64(t), 10), nil
	case json.Number:
		c, err := Canonicalize([]byte(t))
		if err != nil {
			return nil, fmt.Errorf("%w: number %q", ErrNotCanonicalisable, t)
		}
		return append(dst, c...), nil
	case json.RawMessage:
		c, err := Canonicalize(t)
		if err != nil {
			return nil, err
		}
		return append(dst, c...), nil
	case []any:
		dst = append(dst, '[')
		for i, e := range t {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = appendValue(dst, e); err != nil {
				return nil, err
			}
		}
		return append(dst, ']'), nil
	case []string:
		dst = append(dst, '[')
		for i, e := range t {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendCanonicalString(dst, e)
		}
		return append(dst, ']'), nil
	case map[string]string:
		m := make(map[string]any, len(t))
		for k, v := range t {
			m[k] = v
		}
		return appendValue(dst, m)
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendCanonicalString(dst, k)
			dst = append(dst, ':')
			var err error
			if dst, err = appendValue(dst, t[k]); err != nil {
				return nil, err
			}
		}
		return append(dst, '}'), nil
	}
	return nil, fmt.Errorf("%w: %T", ErrNotCanonicalisable, v)
}
