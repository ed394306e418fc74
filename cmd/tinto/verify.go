package main

import "fmt"

func runVerify(e *env, args []string) int {
	fmt.Fprintln(e.stderr, "tinto verify: not yet available in this build")
	return exitError
}
