package update

import (
	"os/exec"
	"syscall"
)

// setParentDeath has the child sent SIGTERM should the supervisor die
// without stopping it (outside systemd, which stops the whole cgroup).
func setParentDeath(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
