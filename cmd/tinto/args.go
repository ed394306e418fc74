package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// parseInterspersed parses flags that may appear before, between or after positional
// arguments, and returns the positional arguments in order.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// readFileLimited reads a file of at most limit bytes; a larger file is an error, and at most
// limit+1 bytes are read.
func readFileLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is over the limit of %d bytes", filepath.Base(path), limit)
	}
	return b, nil
}
