package watch

import (
	"syscall"
)

// errNoSpace is inotify's answer when fs.inotify.max_user_watches is
// reached.
var errNoSpace = syscall.ENOSPC

// eventlessFS names the file system of path when changes made to it
// elsewhere (another machine, the Windows side of WSL2, the host of a
// VM) send no inotify events.
func eventlessFS(path string) (string, bool) {
	var st syscall.Statfs_t
	if syscall.Statfs(path, &st) != nil {
		return "", false
	}
	switch uint32(st.Type) {
	case 0x6969:
		return "NFS", true
	case 0x517B, 0xFF534D42, 0xFE534D42:
		return "SMB/CIFS", true
	case 0x01021997:
		return "9p (WSL2 Windows drives, VM shares)", true
	case 0x65735546:
		return "FUSE (sshfs and others)", true
	case 0x786f4256:
		return "a VirtualBox shared folder", true
	case 0x00c36400:
		return "CephFS", true
	case 0x5346414F:
		return "AFS", true
	}
	return "", false
}
