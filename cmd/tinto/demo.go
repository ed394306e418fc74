package main

import "fmt"

func runDemo(e *env, args []string) int {
	fmt.Fprintln(e.stderr, "tinto demo: not yet available in this build")
	return exitError
}
