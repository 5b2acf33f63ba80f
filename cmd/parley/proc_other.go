//go:build !linux

package main

import "os/exec"

// stopWithParent does nothing here: only Linux ends a child with its
// parent (a spawned bench server outlives a bench killed with -9).
func stopWithParent(cmd *exec.Cmd) {}
