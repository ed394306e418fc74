package main

import "fmt"

func runPolicy(e *env, args []string) int {
	fmt.Fprintln(e.stderr, "tinto policy: not yet available in this build")
	return exitError
}
