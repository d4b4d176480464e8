package main

import (
	"fmt"
	"os"
)

// runServe is a placeholder until the balancer lands (the lead replaces this
// file with serve.go).
func runServe(args []string) int {
	fmt.Fprintln(os.Stderr, "serve: not built yet")
	return 1
}
