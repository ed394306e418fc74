package verify

import (
	"encoding/json"

	"github.com/tintoproject/tinto/pkg/policy"
)

// Policy is pkg/policy's interface: a compiled policy, safe for concurrent use, that returns a
// whole Decision (allow or deny, with its trail), or an error only when it could not decide.
type Policy = policy.Policy

func decodeJSON(raw []byte, v any) error { return json.Unmarshal(raw, v) }
