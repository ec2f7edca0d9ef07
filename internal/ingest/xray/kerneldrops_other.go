//go:build !linux

package xray

import "net"

// kernelDrops is Linux's count of the datagrams the kernel dropped; elsewhere there is none.
type kernelDrops struct{}

func watchKernelDrops(*net.UDPConn) *kernelDrops { return nil }

func (k *kernelDrops) oobBytes() int { return 0 }

func (k *kernelDrops) since([]byte) int { return 0 }
