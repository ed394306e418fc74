package main

import "fmt"

func runTUF(e *env, args []string) int {
	fmt.Fprintln(e.stderr, "tinto tuf: not yet available in this build")
	return exitError
}
