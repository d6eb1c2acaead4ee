//go:build !unix

package main

import "syscall"

// smallBuffers leaves the system's buffers be: there, a slow download may land whole in
// the socket buffers, and the slowclients scenario then measures the uploads alone.
func smallBuffers(_, _ string, _ syscall.RawConn) error { return nil }
