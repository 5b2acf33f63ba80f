package main

import (
	"context"
	"fmt"
	"io"
)

// bench is the load generator; see bench_*.go.
var bench = func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return fmt.Errorf("bench: not built yet")
}
