// Command packagemanager is a small installer that embeds pkg/verify: it installs a package
// from a TUF repository only when the package's TUF metadata, its in-toto supply chain and the
// policy allow it, and refuses everything else, saying why.
//
//	go run ./examples/packagemanager --root root.json --repo http://127.0.0.1:8080 --dest /opt/pkgs demo-app/demo-app-1.0.0.tar.gz
//
// The whole integration is the install function below: one Verifier, made once, used for every
// package; Download writes the package into place only after the decision allows it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"

	"github.com/tintoproject/tinto/pkg/verify"
	"github.com/tintoproject/tinto/pkg/verr"
)

// install verifies name and, only if it is allowed, writes it to dest/<base name>.
func install(ctx context.Context, v *verify.Verifier, name, dest string, w io.Writer) error {
	file := filepath.Join(dest, path.Base(name))
	res, err := v.Download(ctx, name, file)
	if err != nil {
		fmt.Fprintf(w, "refusing to install %s: %v\n", name, explain(res, err))
		return err
	}
	for _, warning := range res.Decision.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warning)
	}
	fmt.Fprintf(w, "installed %s (built by step %q of %s) to %s\n", name, res.Binding.Step, res.Binding.Layout, file)
	return nil
}

// explain turns a denial into one line for the user: the reason, and the rule that decided.
func explain(res *verify.Result, err error) string {
	reason, ok := verr.ReasonOf(err)
	if !ok {
		return "error: " + err.Error()
	}
	if res != nil && res.Decision != nil && res.Decision.Reason != "" {
		return fmt.Sprintf("%s: %s", reason, res.Decision.Reason)
	}
	return string(reason)
}

func main() {
	root := flag.String("root", "", "trusted TUF root.json")
	repo := flag.String("repo", "", "repository URL or directory")
	dest := flag.String("dest", ".", "install directory")
	flag.Parse()
	if *root == "" || *repo == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: packagemanager --root root.json --repo URL [--dest DIR] PACKAGE...")
		os.Exit(2)
	}
	if err := os.MkdirAll(*dest, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	trusted, err := os.ReadFile(*root)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	// The zero Options are strict: the default policy, a required revocation list, no
	// inspections. Only the repository is required.
	v, err := verify.New(trusted, verify.Options{Remote: *repo})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	code := 0
	for _, name := range flag.Args() {
		if err := install(context.Background(), v, name, *dest, os.Stdout); err != nil {
			code = 1
			if _, evidence := verr.ReasonOf(err); !evidence && !errors.Is(err, verr.ErrInvalidInput) {
				code = 2
			}
		}
	}
	os.Exit(code)
}
