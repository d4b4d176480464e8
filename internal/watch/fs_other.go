//go:build !linux

package watch

import "syscall"

// errNoSpace: kqueue has no watch limit of its own (open files are).
var errNoSpace = syscall.ENOSPC

// eventlessFS: only Linux is checked; elsewhere events are trusted, and
// -watch-poll is the way out.
func eventlessFS(string) (string, bool) { return "", false }
