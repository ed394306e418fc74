// Package conformance implements the CLIENT-CLI protocol of the TUF conformance suite
// (theupdateframework/tuf-conformance) on top of pkg/tuf. It backs both
// cmd/tuf-conformance-client and "tinto tuf conformance-client":
//
//	CLIENT --metadata-dir DIR init TRUSTED_ROOT
//	CLIENT --metadata-dir DIR --metadata-url URL refresh
//	CLIENT --metadata-dir DIR --metadata-url URL --target-name NAME... \
//	    --target-base-url URL --target-dir DIR download
//
// Exit code 0 on success, 1 on any failure. METADATA_DIR is the client's metadata cache
// (root.json, timestamp.json, snapshot.json, targets.json, <quoted role>.json); targets are
// stored in TARGET_DIR under their quoted names and not downloaded again when already present
// with the right length and hashes.
//
// The suite sets the client's clock with faketime, which does not affect Go's clock (Go reads
// the vDSO, not libc), so the reference time is read from date(1), which faketime does affect;
// if that fails the system clock is used. See docs/conformance.md.
package conformance

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/tintoproject/tinto/pkg/tuf"
)

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(s string) error { *m = append(*m, s); return nil }

// Run runs the client with the protocol's arguments and returns the exit code (0 or 1). Messages
// go to stderr.
func Run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("tuf-conformance-client", flag.ContinueOnError)
	fs.SetOutput(stderr)
	metadataDir := fs.String("metadata-dir", "", "trusted metadata directory")
	metadataURL := fs.String("metadata-url", "", "repository metadata base URL")
	targetBase := fs.String("target-base-url", "", "repository targets base URL")
	targetDir := fs.String("target-dir", "", "download directory")
	var targetNames multi
	fs.Var(&targetNames, "target-name", "target path (repeatable)")
	if err := fs.Parse(args); err != nil {
		return 1
	}
	rest := fs.Args()
	if len(rest) == 0 || *metadataDir == "" {
		fmt.Fprintln(stderr, "usage: tuf-conformance-client --metadata-dir DIR [flags] init ROOT | refresh | download")
		return 1
	}
	var err error
	switch rest[0] {
	case "init":
		if len(rest) != 2 {
			err = fmt.Errorf("init takes one argument")
			break
		}
		err = initCmd(*metadataDir, rest[1])
	case "refresh":
		_, err = refresh(*metadataDir, *metadataURL, "")
	case "download":
		err = download(stderr, *metadataDir, *metadataURL, *targetBase, *targetDir, targetNames)
	default:
		err = fmt.Errorf("unknown command %q", rest[0])
	}
	if err != nil {
		fmt.Fprintln(stderr, "tuf-conformance-client:", err)
		return 1
	}
	return 0
}

func initCmd(dir, rootPath string) error {
	b, err := os.ReadFile(rootPath)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "root.json"), b, 0o644)
}

func now() time.Time {
	out, err := exec.Command("date", "+%s").Output()
	if err == nil {
		if s, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64); err == nil {
			return time.Unix(s, 0)
		}
	}
	return time.Now()
}

func refresh(dir, metadataURL, targetBase string) (*tuf.Client, error) {
	root, err := os.ReadFile(filepath.Join(dir, "root.json"))
	if err != nil {
		return nil, err
	}
	t := now()
	c, err := tuf.New(root, tuf.Options{
		Fetcher:      &tuf.HTTPFetcher{Attempts: 1},
		MetadataBase: metadataURL,
		TargetsBase:  targetBase,
		CacheDir:     dir,
		Now:          func() time.Time { return t },
	})
	if err != nil {
		return nil, err
	}
	return c, c.Refresh(context.Background())
}

func download(stderr io.Writer, dir, metadataURL, targetBase, targetDir string, targets []string) error {
	if len(targets) == 0 || targetDir == "" {
		return fmt.Errorf("download needs --target-name and --target-dir")
	}
	c, err := refresh(dir, metadataURL, targetBase)
	if err != nil {
		return err
	}
	ctx := context.Background()
	for _, name := range targets {
		tf, err := c.Target(ctx, name)
		if err != nil {
			return err
		}
		p := filepath.Join(targetDir, tuf.QuoteName(name))
		if tuf.VerifyFile(p, tf) {
			fmt.Fprintf(stderr, "%s: already present\n", name)
			continue
		}
		if err := c.DownloadFile(ctx, tf, p); err != nil {
			return err
		}
	}
	return nil
}
