package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// The slowclients scenario's slow clients each send one request at a time, on a connection
// of their own, and move a body of slowBody bytes at about slowRate: up (POST /upload) or
// down (GET /download). A request takes about 100 s, all of it spent in the handler's
// reads of r.Body or writes of the response: a server that holds a slot for a handler's
// I/O gives it to a slow client for that long.
const (
	slowBody    = 1 << 20  // bytes a slow request moves
	slowRate    = 10 << 10 // bytes per second
	slowChunk   = 1 << 10  // bytes moved at a time: ten times a second
	slowRetry   = 100 * time.Millisecond
	slowSockBuf = 16 << 10 // SO_RCVBUF and SO_SNDBUF of the slow clients and of the server
)

// downloadChunk is one of the writes of a download's response: a large body is written
// in parts, as a handler that streams one does.
var downloadChunk = make([]byte, 32<<10)

// uploadChunk is what an upload sends at a time.
var uploadChunk = make([]byte, slowChunk)

// SlowStats is what the slow clients did during a row's measurement.
type SlowStats struct {
	Clients     int   `json:"slow_clients"`
	Completions int64 `json:"slow_completions"` // requests that ended within the measurement
	// Body bytes the clients wrote to or read from their sockets within it, all together:
	// an upload that waits for its handler still fills the socket buffers (some tens of
	// KB, a few seconds' worth) before it stalls.
	KBps   float64 `json:"slow_kbps"`
	Errors int64   `json:"slow_errors"` // failed requests, each retried after slowRetry
}

// slowClients runs the slow clients of one row.
type slowClients struct {
	from, to    time.Time // the measurement
	clients     int
	cancel      context.CancelFunc
	wg          sync.WaitGroup
	stopOnce    sync.Once
	stats       SlowStats
	done, moved atomic.Int64
	errors      atomic.Int64
	conns       atomic.Int64 // open now: none once stopped
}

// startSlowClients starts uploads and downloads slow clients against addr, and returns once
// each has sent its first request's header, so that they are under way before the fast
// clients start. They count what happens between from and to.
func startSlowClients(ctx context.Context, addr string, uploads, downloads int, from, to time.Time) *slowClients {
	ctx, cancel := context.WithCancel(ctx)
	s := &slowClients{from: from, to: to, clients: uploads + downloads, cancel: cancel}
	var started sync.WaitGroup
	for i := range s.clients {
		started.Add(1)
		s.wg.Go(func() { s.run(ctx, addr, i < uploads, sync.OnceFunc(started.Done)) })
	}
	started.Wait()
	return s
}

// stop ends the slow clients, closing their connections, waits for them, and returns
// what they did during the measurement.
func (s *slowClients) stop() SlowStats {
	s.stopOnce.Do(func() {
		s.cancel()
		s.wg.Wait()
		s.stats = SlowStats{
			Clients:     s.clients,
			Completions: s.done.Load(),
			KBps:        float64(s.moved.Load()) / 1024 / s.to.Sub(s.from).Seconds(),
			Errors:      s.errors.Load(),
		}
	})
	return s.stats
}

func (s *slowClients) during(t time.Time) bool { return !t.Before(s.from) && !t.After(s.to) }

// run sends requests one after the other until ctx ends; started is called once the first
// has sent its header, or failed.
func (s *slowClients) run(ctx context.Context, addr string, upload bool, started func()) {
	defer started()
	for ctx.Err() == nil {
		err := s.request(ctx, addr, upload, started)
		now := time.Now()
		switch {
		case ctx.Err() != nil:
			return // stopped: not counted
		case err != nil:
			if s.during(now) {
				s.errors.Add(1)
			}
			sleep(ctx, slowRetry) // a refused request must not spin
		case s.during(now):
			s.done.Add(1)
		}
	}
}

// request moves one body, on a connection of its own that it closes when done or when ctx
// ends: closing it ends a read or write under way at once.
func (s *slowClients) request(ctx context.Context, addr string, upload bool, sent func()) error {
	d := net.Dialer{Control: smallBuffers}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	s.conns.Add(1)
	defer s.conns.Add(-1)
	defer conn.Close()
	defer context.AfterFunc(ctx, func() { conn.Close() })()
	conn.(*net.TCPConn).SetLinger(0) // no TIME_WAIT left behind, as the fast clients

	head := "GET /download HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n"
	if upload {
		head = "POST /upload HTTP/1.1\r\nHost: bench\r\nConnection: close\r\nContent-Length: " + strconv.Itoa(slowBody) + "\r\n\r\n"
	}
	if _, err := io.WriteString(conn, head); err != nil {
		return err
	}
	sent()
	var p pacer
	if upload {
		for moved := 0; moved < slowBody; {
			n, err := conn.Write(uploadChunk[:min(slowChunk, slowBody-moved)])
			moved += n
			s.count(n)
			if err != nil {
				return err // a server that answers without reading the body closes the connection
			}
			if err := p.wait(ctx, n); err != nil {
				return err
			}
		}
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %s", resp.Status)
	}
	if upload {
		_, err := io.Copy(io.Discard, resp.Body)
		return err
	}
	buf := make([]byte, slowChunk)
	got := 0
	for {
		n, err := resp.Body.Read(buf)
		got += n
		s.count(n)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if err := p.wait(ctx, n); err != nil {
			return err
		}
	}
	if got != slowBody {
		return fmt.Errorf("downloaded %d bytes, want %d", got, slowBody)
	}
	return nil
}

func (s *slowClients) count(n int) {
	if n > 0 && s.during(time.Now()) {
		s.moved.Add(int64(n))
	}
}

// pacer spaces a transfer's chunks at slowRate. Time lost waiting on the peer is not made
// up in a burst: the rate is at most slowRate at any moment, as a slow link's would be.
type pacer struct{ next time.Time }

// wait sleeps until the n bytes just moved are due at slowRate.
func (p *pacer) wait(ctx context.Context, n int) error {
	now := time.Now()
	if p.next.Before(now) {
		p.next = now
	}
	p.next = p.next.Add(time.Duration(n) * time.Second / slowRate)
	return sleep(ctx, time.Until(p.next))
}

// sleep waits for d or until ctx ends, and returns ctx's error if it did.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
