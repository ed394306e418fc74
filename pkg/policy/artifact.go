package policy

import (
	"errors"
)

// artifactProgram runs one organisation-wide artifact rule over one link's artifacts.
type artifactProgram interface {
	// run returns the artifacts the rule consumed and a non-nil error when the rule failed.
	run(side string, l *Link, step *Step, lay *Layout) (consumed []string, err error)
}

func compileArtifactRule(verb Verb, rest string) (artifactProgram, error) {
	return nil, errors.New("artifact verbs are not available in this build")
}
