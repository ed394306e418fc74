// Command tuf-conformance-client implements the CLIENT-CLI protocol of the TUF conformance suite
// (theupdateframework/tuf-conformance) on top of pkg/tuf; see package
// github.com/tintoproject/tinto/pkg/tuf/conformance and docs/conformance.md.
package main

import (
	"os"

	"github.com/tintoproject/tinto/pkg/tuf/conformance"
)

func main() { os.Exit(conformance.Run(os.Args[1:], os.Stderr)) }
