package policy

import (
	"io"

	"github.com/tintoproject/tinto/pkg/verr"
)

func readLimited(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, verr.Invalid("policy", "larger than %d bytes", limit)
	}
	return data, nil
}
