package verify

import (
	"context"
	"encoding/json"

	"github.com/tintoproject/tinto/pkg/policy"
)

// Policy decides over verified evidence. It is pkg/policy's interface as this package uses it: a
// compiled policy, safe for concurrent use, that returns a whole Decision (allow or deny, with
// its trail) or an operational error.
type Policy interface {
	Evaluate(ctx context.Context, in *policy.Input) (*policy.Decision, error)
}

func decodeJSON(raw []byte, v any) error { return json.Unmarshal(raw, v) }
