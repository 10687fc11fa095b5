//go:build !linux

package update

import "os/exec"

func setParentDeath(*exec.Cmd) {}
