//go:build unix

package main

import "syscall"

// smallBuffers sets a socket's receive and send buffers to slowSockBuf, before it connects
// or listens (accepted sockets inherit a listener's). Loopback buffers otherwise grow to
// megabytes: a slow client's whole download would land in them, and the handler return
// at once, rather than wait in Write as it would for a slow client across a network.
func smallBuffers(_, _ string, c syscall.RawConn) error {
	var err error
	cerr := c.Control(func(fd uintptr) {
		err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, slowSockBuf)
		if err == nil {
			err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUF, slowSockBuf)
		}
	})
	if cerr != nil {
		return cerr
	}
	return err
}
