package publish

import (
	"net/http"
	"strconv"
	"strings"
)

// Lookup returns the bytes served at a location "metadata/<file>" or "targets/<path>" (the
// layout WriteDir writes), reading the repository's current state.
func (r *Repository) Lookup(location string) ([]byte, bool) {
	if name, ok := strings.CutPrefix(location, "metadata/"); ok {
		b, ok := r.Files[name]
		return b, ok
	}
	if name, ok := strings.CutPrefix(location, "targets/"); ok {
		b, ok := r.TargetFiles[name]
		return b, ok
	}
	return nil, false
}

// Handler serves the repository over HTTP at /metadata/... and /targets/... (the raw request
// path is used, so quoted role names are looked up as quoted). It reads the repository's
// current state on every request; do not modify the repository while requests are in flight.
func (r *Repository) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		p := req.URL.EscapedPath()
		b, ok := r.Lookup(strings.TrimPrefix(p, "/"))
		if !ok {
			http.NotFound(w, req)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.Write(b)
	})
}
