//go:build !unix

package image

import "io/fs"

func inodeOf(fs.FileInfo) (id [2]uint64, links uint64, ok bool) { return id, 0, false }
