package main

import "github.com/tintoproject/tinto/pkg/tuf/conformance"

// tufConformance is "tinto tuf conformance-client": the tuf-conformance CLIENT-CLI protocol.
func tufConformance(e *env, args []string) int { return conformance.Run(args, e.stderr) }
