package intoto

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
)

// DirSource reads link files from a directory on disk. Symbolic links anywhere below the
// directory are refused, as are names that are not fs.ValidPath (no "..", no absolute paths),
// and files over MaxBytes. It is safe for concurrent use.
type DirSource struct {
	Dir string
	// MaxBytes bounds each file. Zero value: DefaultMaxLinkBytes. Negative: no limit.
	MaxBytes int64
}

// DirLinks returns a DirSource for dir.
func DirLinks(dir string) *DirSource { return &DirSource{Dir: dir} }

func (d *DirSource) max() int64 {
	if d.MaxBytes == 0 {
		return DefaultMaxLinkBytes
	}
	return d.MaxBytes
}

func checkName(name string) error {
	if !fs.ValidPath(name) || strings.Contains(name, `\`) {
		return &fs.PathError{Op: "open", Path: name, Err: errors.New("invalid link file name (path traversal or not a relative slash-separated path)")}
	}
	return nil
}

// ReadLink implements LinkSource.
func (d *DirSource) ReadLink(name string) ([]byte, error) { return d.readLinkInto(name, nil) }

// linkBufferReader is a LinkSource that can read a link into a buffer of the caller's, which
// the verifier reuses for the next step's link once nothing refers to the previous one.
type linkBufferReader interface {
	readLinkInto(name string, buf []byte) ([]byte, error)
}

// readLinkInto is ReadLink, reading into buf's array when the file fits in its capacity.
func (d *DirSource) readLinkInto(name string, buf []byte) ([]byte, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(d.Dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	// Refuse a symbolic link in any component.
	p := ""
	for _, part := range strings.Split(name, "/") {
		p = path.Join(p, part)
		fi, err := root.Lstat(p)
		if err != nil {
			return nil, err
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			return nil, &fs.PathError{Op: "open", Path: name, Err: errors.New("symbolic links are not followed in a link directory")}
		}
	}
	f, err := root.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, &fs.PathError{Op: "open", Path: name, Err: errors.New("not a regular file")}
	}
	return readSized(f, name, fi.Size(), d.max(), buf)
}

// readSized reads a file whose size is known, in one allocation (none when it fits in buf).
func readSized(r io.Reader, name string, size, max int64, buf []byte) ([]byte, error) {
	if max >= 0 && size > max {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fmt.Errorf("file is over the limit of %d bytes", max)}
	}
	if size <= 0 || size > 1<<40 {
		return readMax(r, name, max)
	}
	var b []byte
	if int64(cap(buf)) >= size+1 {
		b = buf[:size+1]
	} else {
		b = make([]byte, size+1)
	}
	n, err := io.ReadFull(r, b)
	switch {
	case err == io.ErrUnexpectedEOF || err == io.EOF:
		return b[:n], nil // the file shrank
	case err != nil:
		return nil, err
	}
	// The file grew while being read: read the rest within the limit.
	rest, err := readMax(r, name, max-int64(n))
	if err != nil {
		return nil, err
	}
	return append(b[:n], rest...), nil
}

func readMax(r io.Reader, name string, max int64) ([]byte, error) {
	if max < 0 {
		return io.ReadAll(r)
	}
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fmt.Errorf("file is over the limit of %d bytes", max)}
	}
	return b, nil
}

// ListLinks implements LinkSource.
func (d *DirSource) ListLinks(dir string) ([]string, error) {
	if err := checkName(dir); err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(d.Dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	return readDirNames(root.FS(), dir)
}

func readDirNames(fsys fs.FS, dir string) ([]string, error) {
	ents, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if e.Type().IsRegular() {
			out = append(out, path.Join(dir, e.Name()))
		}
	}
	sort.Strings(out)
	return out, nil
}

// FSSource reads link files from any fs.FS. It refuses files that are not regular (including
// symbolic links, when the fs.FS reports them through ReadDir or Stat) and files over MaxBytes.
// It is safe for concurrent use if the fs.FS is.
type FSSource struct {
	FS fs.FS
	// MaxBytes bounds each file. Zero value: DefaultMaxLinkBytes. Negative: no limit.
	MaxBytes int64
}

// FSLinks returns an FSSource for fsys.
func FSLinks(fsys fs.FS) *FSSource { return &FSSource{FS: fsys} }

// ReadLink implements LinkSource.
func (s *FSSource) ReadLink(name string) ([]byte, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	f, err := s.FS.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, &fs.PathError{Op: "open", Path: name, Err: errors.New("not a regular file")}
	}
	max := s.MaxBytes
	if max == 0 {
		max = DefaultMaxLinkBytes
	}
	return readMax(f, name, max)
}

// ListLinks implements LinkSource.
func (s *FSSource) ListLinks(dir string) ([]string, error) {
	if err := checkName(dir); err != nil {
		return nil, err
	}
	return readDirNames(s.FS, dir)
}

// MemLinks is an in-memory LinkSource: file name to contents. It is safe for concurrent use as
// long as the map is not modified.
type MemLinks map[string][]byte

// ReadLink implements LinkSource.
func (m MemLinks) ReadLink(name string) ([]byte, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	b, ok := m[name]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return b, nil
}

// ListLinks implements LinkSource.
func (m MemLinks) ListLinks(dir string) ([]string, error) {
	if err := checkName(dir); err != nil {
		return nil, err
	}
	var out []string
	for n := range m {
		if path.Dir(n) == dir {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out, nil
}

// subSource views the subdirectory dir of a LinkSource (for sublayouts).
type subSource struct {
	parent LinkSource
	dir    string
}

func (s subSource) ReadLink(name string) ([]byte, error) {
	return s.parent.ReadLink(path.Join(s.dir, name))
}

func (s subSource) ListLinks(dir string) ([]string, error) {
	names, err := s.parent.ListLinks(path.Join(s.dir, dir))
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(names))
	for _, n := range names {
		if r, ok := strings.CutPrefix(n, s.dir+"/"); ok {
			out = append(out, r)
		}
	}
	return out, nil
}
