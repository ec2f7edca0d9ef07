package xray

import (
	"encoding/binary"
	"net"
	"syscall"
)

// kernelDrops learns how many datagrams the kernel dropped because the socket's buffer was
// full, before lookout could read them. Linux tells a socket that asks (SO_RXQ_OVFL): each
// datagram read carries the socket's count of drops when it was queued.
type kernelDrops struct {
	seen uint32 // the count the last datagram carried; it wraps, as the kernel's does
}

// watchKernelDrops asks the kernel to count conn's drops; nil when it will not.
func watchKernelDrops(conn *net.UDPConn) *kernelDrops {
	raw, err := conn.SyscallConn()
	if err != nil {
		return nil
	}
	var serr error
	if err := raw.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RXQ_OVFL, 1)
	}); err != nil || serr != nil {
		return nil
	}
	return &kernelDrops{}
}

// oobBytes is the room a datagram's count needs beside it.
func (k *kernelDrops) oobBytes() int {
	if k == nil {
		return 0
	}
	return syscall.CmsgSpace(4)
}

// since returns how many datagrams the kernel dropped before the one whose control data
// (ReadMsgUDP's oob) is given, since the one read before it.
func (k *kernelDrops) since(oob []byte) int {
	if k == nil {
		return 0
	}
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return 0
	}
	for _, m := range msgs {
		if m.Header.Level == syscall.SOL_SOCKET && m.Header.Type == syscall.SO_RXQ_OVFL && len(m.Data) >= 4 {
			count := binary.NativeEndian.Uint32(m.Data)
			dropped := count - k.seen
			k.seen = count
			return int(dropped)
		}
	}
	return 0
}
