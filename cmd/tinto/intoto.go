package main

import "fmt"

func runIntoto(e *env, args []string) int {
	fmt.Fprintln(e.stderr, "tinto intoto: not yet available in this build")
	return exitError
}
