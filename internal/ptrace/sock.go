//go:build linux && amd64

package ptrace

import (
	"encoding/binary"
	"net/netip"
	"strconv"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// PidfdOpen returns a pidfd for process pid.
func PidfdOpen(pid int) (int, error) {
	for {
		fd, err := unix.PidfdOpen(pid, 0)
		if err == unix.EINTR {
			continue
		}
		return fd, err
	}
}

// Close closes a descriptor of the tracer.
func Close(fd int) { unix.Close(fd) }

// FDInfo is what the tracer learns about a tracee's descriptor by copying it.
type FDInfo struct {
	Socket  bool
	FIFO    bool
	Family  int
	Type    int
	Local   string // formatted address (see FormatSockaddr)
	Peer    string
	PeerPID int    // SO_PEERCRED pid for unix sockets, 0 when unknown
	Ino     uint64 // inode of the socket (see UnixPeer)
}

// Inspect copies descriptor fd of the process behind pidfd into the tracer
// (pidfd_getfd), reads its type and addresses, and closes the copy.
func Inspect(pidfd, fd int, info *FDInfo) error {
	dup, err := getfd(pidfd, fd)
	if err != nil {
		return err
	}
	defer unix.Close(dup)
	*info = FDInfo{}
	var st unix.Stat_t
	if err := unix.Fstat(dup, &st); err != nil {
		return err
	}
	info.Ino = st.Ino
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFIFO:
		info.FIFO = true
		return nil
	case unix.S_IFSOCK:
		info.Socket = true
	default:
		return nil
	}
	info.Family, _ = unix.GetsockoptInt(dup, unix.SOL_SOCKET, unix.SO_DOMAIN)
	info.Type, _ = unix.GetsockoptInt(dup, unix.SOL_SOCKET, unix.SO_TYPE)
	info.Local = sockname(dup, unix.SYS_GETSOCKNAME)
	info.Peer = sockname(dup, unix.SYS_GETPEERNAME)
	if info.Family == unix.AF_UNIX {
		if uc, err := unix.GetsockoptUcred(dup, unix.SOL_SOCKET, unix.SO_PEERCRED); err == nil {
			info.PeerPID = int(uc.Pid)
		}
	}
	return nil
}

// Listening reports whether descriptor fd of the process behind pidfd is
// a listening socket (SO_ACCEPTCONN): its listen has run in the kernel.
func Listening(pidfd, fd int) bool {
	dup, err := getfd(pidfd, fd)
	if err != nil {
		return false
	}
	defer unix.Close(dup)
	v, err := unix.GetsockoptInt(dup, unix.SOL_SOCKET, unix.SO_ACCEPTCONN)
	return err == nil && v != 0
}

// getfd copies descriptor fd of the process behind pidfd into the tracer.
func getfd(pidfd, fd int) (int, error) {
	for {
		d, err := unix.PidfdGetfd(pidfd, fd, 0)
		if err != unix.EINTR {
			return d, err
		}
	}
}

func sockname(fd int, nr uintptr) string {
	var buf [128]byte
	l := uint32(len(buf))
	_, _, e := unix.RawSyscall(nr, uintptr(fd), uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&l)))
	if e != 0 {
		return ""
	}
	if l > uint32(len(buf)) {
		l = uint32(len(buf))
	}
	return FormatSockaddr(buf[:l])
}

// FormatSockaddr renders a raw struct sockaddr: "127.0.0.1:80", "[::1]:80",
// "/path" or "@abstract" for unix sockets, "" for an unnamed or unknown one.
// IPv4-mapped IPv6 addresses are shown as IPv4, so both ends of a dual-stack
// connection name the same address.
func FormatSockaddr(b []byte) string {
	if len(b) < 2 {
		return ""
	}
	switch binary.LittleEndian.Uint16(b) {
	case syscall.AF_INET:
		if len(b) < 8 {
			return ""
		}
		ip := netip.AddrFrom4([4]byte(b[4:8]))
		return netip.AddrPortFrom(ip, binary.BigEndian.Uint16(b[2:4])).String()
	case syscall.AF_INET6:
		if len(b) < 24 {
			return ""
		}
		ip := netip.AddrFrom16([16]byte(b[8:24])).Unmap()
		return netip.AddrPortFrom(ip, binary.BigEndian.Uint16(b[2:4])).String()
	case syscall.AF_UNIX:
		p := b[2:]
		if len(p) == 0 {
			return ""
		}
		if p[0] == 0 {
			return "@" + string(p[1:])
		}
		for i, c := range p {
			if c == 0 {
				p = p[:i]
				break
			}
		}
		return string(p)
	}
	return "family" + strconv.Itoa(int(binary.LittleEndian.Uint16(b)))
}

// UnixPeer returns the inode of the socket connected to the unix socket
// with inode ino, asked of the kernel with sock_diag (UDIAG_SHOW_PEER); 0
// when unknown (no unix_diag, no such socket, no peer, or a peer that has
// been closed). It tells which connector an accepted unix socket belongs to
// when the connector has no address.
func UnixPeer(ino uint64) uint64 {
	a := unixDiag(ino, udiagShowPeer, unixDiagPeer)
	if len(a) < 4 {
		return 0
	}
	return uint64(binary.LittleEndian.Uint32(a))
}

// UnixQueue returns the inodes of the connectors waiting to be accepted on
// the unix listener with inode ino, in the order accept will take them
// (sock_diag, UDIAG_SHOW_ICONS); a closed connector's is 0. Nil when
// unknown.
func UnixQueue(ino uint64) []uint64 {
	a := unixDiag(ino, udiagShowIcons, unixDiagIcons)
	if a == nil {
		return nil
	}
	q := make([]uint64, len(a)/4)
	for i := range q {
		q[i] = uint64(binary.LittleEndian.Uint32(a[4*i:]))
	}
	return q
}

// unixDiag asks sock_diag about the unix socket with inode ino and returns
// the payload of its attribute attr (nil if absent).
func unixDiag(ino uint64, show uint32, attr uint16) []byte {
	if ino == 0 {
		return nil
	}
	s, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return nil
	}
	defer unix.Close(s)
	// struct nlmsghdr, then struct unix_diag_req: family, protocol, pad,
	// states, ino, show, cookie[2] (all ones: do not check it).
	var req [16 + 24]byte
	le := binary.LittleEndian
	le.PutUint32(req[0:], uint32(len(req)))
	le.PutUint16(req[4:], unix.SOCK_DIAG_BY_FAMILY)
	le.PutUint16(req[6:], unix.NLM_F_REQUEST)
	le.PutUint32(req[8:], 1)
	req[16] = unix.AF_UNIX
	le.PutUint32(req[20:], ^uint32(0))
	le.PutUint32(req[24:], uint32(ino))
	le.PutUint32(req[28:], show)
	le.PutUint32(req[32:], ^uint32(0))
	le.PutUint32(req[36:], ^uint32(0))
	if err := unix.Sendto(s, req[:], 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil
	}
	buf := make([]byte, 16<<10)
	n, _, err := unix.Recvfrom(s, buf, 0)
	if err != nil || n < 16+16 || le.Uint16(buf[4:]) != unix.SOCK_DIAG_BY_FAMILY {
		return nil
	}
	// struct unix_diag_msg (16 bytes), then attributes.
	msg := buf[:min(n, int(le.Uint32(buf[0:])))]
	if len(msg) < 32 || le.Uint32(msg[20:]) != uint32(ino) {
		return nil
	}
	for a := msg[32:]; len(a) >= 4; {
		l := int(le.Uint16(a[0:]))
		if l < 4 || l > len(a) {
			break
		}
		if le.Uint16(a[2:]) == attr {
			return a[4:l:l]
		}
		a = a[min(len(a), (l+3)&^3):]
	}
	return nil
}

// From linux/unix_diag.h.
const (
	udiagShowPeer  = 0x4
	udiagShowIcons = 0x8
	unixDiagPeer   = 2
	unixDiagIcons  = 3
)
