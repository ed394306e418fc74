// Command tuf-conformance-client implements the CLIENT-CLI protocol of the TUF conformance suite
// (theupdateframework/tuf-conformance) on top of pkg/tuf:
//
//	tuf-conformance-client --metadata-dir DIR init TRUSTED_ROOT
//	tuf-conformance-client --metadata-dir DIR --metadata-url URL refresh
//	tuf-conformance-client --metadata-dir DIR --metadata-url URL --target-name NAME... \
//	    --target-base-url URL --target-dir DIR download
//
// Exit code 0 on success, 1 on any failure. The suite sets the client's clock with faketime,
// which does not affect Go's clock, so the reference time is read from date(1) (which faketime
// does affect); if that fails the system clock is used.
//
// See docs/conformance.md for how to run the suite.
package main

import (
	"context"
	"flag"
	"fmt"
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

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	fs := flag.NewFlagSet("tuf-conformance-client", flag.ContinueOnError)
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
		fmt.Fprintln(os.Stderr, "usage: tuf-conformance-client --metadata-dir DIR [flags] init ROOT | refresh | download")
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
		err = download(*metadataDir, *metadataURL, *targetBase, *targetDir, targetNames)
	default:
		err = fmt.Errorf("unknown command %q", rest[0])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tuf-conformance-client:", err)
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

func download(dir, metadataURL, targetBase, targetDir string, targets []string) error {
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
			fmt.Fprintf(os.Stderr, "%s: already present\n", name)
			continue
		}
		if err := c.DownloadFile(ctx, tf, p); err != nil {
			return err
		}
	}
	return nil
}
