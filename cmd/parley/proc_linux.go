package main

import (
	"os/exec"
	"syscall"
)

// stopWithParent has cmd's process get SIGTERM when this one dies.
func stopWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
