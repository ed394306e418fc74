package tuf

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"strings"
	"sync"
	"time"
)

// Fetcher retrieves the bytes at a location. The client builds locations by appending a
// metadata or target file name (URL path-escaped) to Options.MetadataBase or
// Options.TargetsBase, so a location is whatever the fetcher understands: an http(s) URL, a
// slash-separated path in a directory or fs.FS, a key in memory.
//
// Fetch must return an error matching ErrNotExist when the location does not exist (HTTP 403
// and 404 included), and must stop when ctx is done. The client enforces length limits itself
// by reading at most limit+1 bytes; fetchers may use the limit hint to refuse early.
//
// Implementations must be safe for concurrent use.
type Fetcher interface {
	Fetch(ctx context.Context, location string, limit int64) (io.ReadCloser, error)
}

// ErrNotExist is matched by fetch errors for locations that do not exist.
var ErrNotExist = fs.ErrNotExist

// FetcherFunc adapts a function to Fetcher. It is safe for concurrent use if the function is.
type FetcherFunc func(ctx context.Context, location string, limit int64) (io.ReadCloser, error)

// Fetch implements Fetcher.
func (f FetcherFunc) Fetch(ctx context.Context, location string, limit int64) (io.ReadCloser, error) {
	return f(ctx, location, limit)
}

// HTTPFetcher fetches over HTTP(S). The zero value is usable: it uses a client with a 30 s
// timeout per attempt, 3 attempts with exponential backoff from 200 ms for network errors and
// 5xx/429 responses, and the user agent "tinto-tuf". It is safe for concurrent use.
type HTTPFetcher struct {
	// Client is the HTTP client; nil means one with Timeout (below).
	Client *http.Client
	// Timeout bounds each attempt when Client is nil; zero means 30 s.
	Timeout time.Duration
	// Attempts is the number of tries for retryable failures; zero means 3.
	Attempts int
	// Backoff is the first retry delay, doubled after each retry; zero means 200 ms.
	Backoff time.Duration
	// UserAgent is sent with every request; empty means "tinto-tuf".
	UserAgent string

	once      sync.Once
	defClient *http.Client
}

// Fetch implements Fetcher.
func (h *HTTPFetcher) Fetch(ctx context.Context, location string, limit int64) (io.ReadCloser, error) {
	client := h.Client
	if client == nil {
		h.once.Do(func() {
			t := h.Timeout
			if t == 0 {
				t = 30 * time.Second
			}
			h.defClient = &http.Client{Timeout: t}
		})
		client = h.defClient
	}
	attempts := h.Attempts
	if attempts <= 0 {
		attempts = 3
	}
	backoff := h.Backoff
	if backoff <= 0 {
		backoff = 200 * time.Millisecond
	}
	ua := h.UserAgent
	if ua == "" {
		ua = "tinto-tuf"
	}
	var last error
	for i := 0; i < attempts; i++ {
		if i > 0 {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(backoff):
			}
			backoff *= 2
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, location, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("User-Agent", ua)
		resp, err := client.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			last = err
			continue
		}
		switch {
		case resp.StatusCode == http.StatusOK:
			if limit > 0 && resp.ContentLength > limit {
				resp.Body.Close()
				return nil, &tooLongError{limit: limit}
			}
			return &httpBody{resp.Body, resp.ContentLength}, nil
		case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusForbidden:
			resp.Body.Close()
			return nil, fmt.Errorf("GET %s: %s: %w", location, resp.Status, ErrNotExist)
		case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
			resp.Body.Close()
			last = fmt.Errorf("GET %s: %s", location, resp.Status)
			continue
		default:
			resp.Body.Close()
			return nil, fmt.Errorf("GET %s: %s", location, resp.Status)
		}
	}
	return nil, last
}

type tooLongError struct{ limit int64 }

func (e *tooLongError) Error() string { return fmt.Sprintf("response longer than %d bytes", e.limit) }

// DirFetcher fetches from a local directory: a location is a slash-separated path relative to
// Dir (the client's bases are then typically "metadata/" and "targets/"), used literally (a
// quoted role name such as "a%2Fb" names the file "a%2Fb.json"). Paths cannot leave Dir
// (os.Root, plus a check that the path is clean and relative). It is safe for concurrent use.
type DirFetcher struct {
	Dir string
}

// Fetch implements Fetcher.
func (d DirFetcher) Fetch(ctx context.Context, location string, limit int64) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	name, err := cleanLocation(location)
	if err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(d.Dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	f, err := root.Open(name)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s: not a regular file: %w", location, ErrNotExist)
	}
	return f, nil
}

// FSFetcher fetches from an fs.FS: a location is a slash-separated path in FS. It is safe for
// concurrent use if the FS is.
type FSFetcher struct {
	FS fs.FS
}

// Fetch implements Fetcher.
func (f FSFetcher) Fetch(ctx context.Context, location string, limit int64) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	name, err := cleanLocation(location)
	if err != nil {
		return nil, err
	}
	if !fs.ValidPath(name) {
		return nil, fmt.Errorf("%s: invalid path: %w", location, ErrNotExist)
	}
	file, err := f.FS.Open(name)
	if err != nil {
		return nil, err
	}
	if st, err := file.Stat(); err != nil || !st.Mode().IsRegular() {
		file.Close()
		return nil, fmt.Errorf("%s: not a regular file: %w", location, ErrNotExist)
	}
	return file, nil
}

// MemFetcher serves bytes from a map keyed by location. It is safe for concurrent use as long as
// the map is not modified while in use.
type MemFetcher map[string][]byte

// Fetch implements Fetcher.
func (m MemFetcher) Fetch(ctx context.Context, location string, limit int64) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b, ok := m[location]
	if !ok {
		return nil, fmt.Errorf("%s: %w", location, ErrNotExist)
	}
	return memReader{bytes.NewReader(b)}, nil
}

type memReader struct{ *bytes.Reader }

func (memReader) Close() error { return nil }

func cleanLocation(location string) (string, error) {
	// Locations are used literally as slash-separated paths (a role name is quoted as in a URL,
	// so the file on disk carries the quoted name, which is what publish writes).
	if location == "" || strings.HasPrefix(location, "/") || path.Clean(location) != location {
		return "", fmt.Errorf("%s: unsafe path: %w", location, ErrNotExist)
	}
	return location, nil
}

// readAll reads at most limit bytes from a fetch, or fails with EndlessData.
func readAll(ctx context.Context, f Fetcher, role, location string, limit int64) ([]byte, error) {
	rc, err := f.Fetch(ctx, location, limit)
	if err != nil {
		var tl *tooLongError
		if errors.As(err, &tl) {
			return nil, errEndless(role, limit)
		}
		return nil, err
	}
	defer rc.Close()
	var buf bytes.Buffer
	if n := sizeHint(rc); n > 0 && n <= limit {
		buf.Grow(int(n) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(io.LimitReader(ctxReader{ctx, rc}, limit+1)); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	if int64(len(b)) > limit {
		return nil, errEndless(role, limit)
	}
	return b, nil
}

// sizeHint returns the size a fetched body announces (Len, Stat or an HTTP Content-Length), or
// -1. It only sizes the first allocation; the limit is enforced on what is actually read.
func sizeHint(r io.Reader) int64 {
	switch v := r.(type) {
	case interface{ Len() int }:
		return int64(v.Len())
	case interface{ Stat() (fs.FileInfo, error) }:
		if st, err := v.Stat(); err == nil && st.Mode().IsRegular() {
			return st.Size()
		}
	case *httpBody:
		return v.length
	}
	return -1
}

// httpBody is a response body with its Content-Length.
type httpBody struct {
	io.ReadCloser
	length int64
}

// ctxReader stops reading when ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
