package main

import (
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets testscript run this binary as the "tinto" command inside scripts.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"tinto": func() {
			e := &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}
			os.Exit(run(e, os.Args[1:]))
		},
	})
}

// TestScripts runs every testdata/script/*.txtar. Each script may use the "tinto" command, and
// the environment variable PYINTOTO is "1" when python in-toto's CLIs are installed.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			return nil
		},
	})
}
