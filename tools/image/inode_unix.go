//go:build unix

package image

import (
	"io/fs"
	"syscall"
)

// inodeOf returns a file's device and inode number and its link count.
func inodeOf(info fs.FileInfo) (id [2]uint64, links uint64, ok bool) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return id, 0, false
	}
	return [2]uint64{uint64(st.Dev), uint64(st.Ino)}, uint64(st.Nlink), true
}
