package tuf

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// encoding/json matches field names case-insensitively, python-tuf does not. checkFieldCase
// refuses, in the objects whose fields this client reads, a field that differs from a known
// field only in letter case, so that both read the same signed data the same way.

var (
	keyFields      = []string{"keytype", "scheme", "keyval"}
	keyvalFields   = []string{"public"}
	roleFields     = []string{"keyids", "threshold"}
	metaFields     = []string{"version", "length", "hashes"}
	delegFields    = []string{"keys", "roles", "succinct_roles"}
	dRoleFields    = []string{"name", "keyids", "threshold", "terminating", "paths", "path_hash_prefixes"}
	succinctFields = []string{"keyids", "threshold", "bit_length", "name_prefix"}
)

func checkFields(obj any, known []string, where string) error {
	m, ok := obj.(map[string]any)
	if !ok {
		return nil // the typed decoding reports wrong types
	}
	for k := range m {
		for _, f := range known {
			if k != f && strings.EqualFold(k, f) {
				return fmt.Errorf("%s: field %q differs from %q only in case", where, k, f)
			}
		}
	}
	return nil
}

func eachValue(obj any, f func(k string, v any) error) error {
	if m, ok := obj.(map[string]any); ok {
		for k, v := range m {
			if err := f(k, v); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkKeys(v any) error {
	return eachValue(v, func(id string, k any) error {
		if err := checkFields(k, keyFields, "key "+id); err != nil {
			return err
		}
		if km, ok := k.(map[string]any); ok {
			return checkFields(km["keyval"], keyvalFields, "key "+id)
		}
		return nil
	})
}

// checkFieldCase checks the members of a signed object that hold nested objects.
func checkFieldCase(members map[string][2]int, signed []byte) error {
	decode := func(name string) (any, bool, error) {
		sp, ok := members[name]
		if !ok {
			return nil, false, nil
		}
		d := json.NewDecoder(bytes.NewReader(signed[sp[0]:sp[1]]))
		d.UseNumber()
		var v any
		if err := d.Decode(&v); err != nil {
			return nil, false, err
		}
		return v, true, nil
	}
	if v, ok, err := decode("keys"); err != nil {
		return err
	} else if ok {
		if err := checkKeys(v); err != nil {
			return err
		}
	}
	if v, ok, err := decode("roles"); err != nil {
		return err
	} else if ok {
		if err := eachValue(v, func(n string, r any) error { return checkFields(r, roleFields, "role "+n) }); err != nil {
			return err
		}
	}
	if v, ok, err := decode("meta"); err != nil {
		return err
	} else if ok {
		if err := eachValue(v, func(n string, m any) error { return checkFields(m, metaFields, "meta "+n) }); err != nil {
			return err
		}
	}
	if v, ok, err := decode("delegations"); err != nil {
		return err
	} else if ok {
		if err := checkFields(v, delegFields, "delegations"); err != nil {
			return err
		}
		if dm, ok := v.(map[string]any); ok {
			if err := checkKeys(dm["keys"]); err != nil {
				return err
			}
			if rs, ok := dm["roles"].([]any); ok {
				for i, r := range rs {
					if err := checkFields(r, dRoleFields, fmt.Sprintf("delegated role %d", i)); err != nil {
						return err
					}
				}
			}
			if err := checkFields(dm["succinct_roles"], succinctFields, "succinct_roles"); err != nil {
				return err
			}
		}
	}
	return nil
}
