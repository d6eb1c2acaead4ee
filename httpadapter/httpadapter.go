// Package httpadapter serves net/http requests as continuations: each request runs on a
// [continuation.Scheduler]'s bounded pool, and a handler that awaits a future gives its
// slot back while it waits, like an [http.Handler] that does not count against the bound
// while it waits on a slow upstream.
//
// A request is run by its own serving goroutine with [continuation.Run]: the goroutine
// takes a slot, runs the handler, gives the slot back while the handler awaits, and takes
// it again, ahead of new requests, to go on. The request's context is the continuation's:
// a client that goes away resumes a suspended handler at once with the context's error.
//
// # What holds a slot
//
// A handler holds its slot while its code runs, and never while it waits on the client:
// reads of the request body, and writes of the response that may reach the network (every
// Write past the first 2,048 bytes of the body, [http.Flusher]'s Flush and
// [http.ResponseController]'s, io.Copy into the writer), give the slot back while they
// run and take it again after, as [continuation.Blocking] does, over HTTP/1.x and HTTP/2
// alike. A slow client, uploading or downloading, then costs a goroutine and a
// connection, as it does with plain net/http, and no slot. The first 2,048 bytes go to the
// server's buffer, which nothing reaches the network from before the handler returns or
// flushes: a small response pays nothing for this. Only the handler's own goroutine gives
// its slot back: I/O made by a goroutine the handler started (and awaits) holds no slot
// anyway, and I/O made more than 32 calls deep below the handler keeps the slot.
//
// A handler that runs a continuation of its own must do it within [continuation.Blocking]
// or with c.Context() (see [continuation.ErrNested]); a continuation.Run with r.Context()
// from the handler waits for a slot while it holds one.
//
// Other waits hold the slot unless written with [continuation.Await] or
// [continuation.Blocking]: a call to an upstream made directly, a database query, a
// channel receive. The scheduler's step budget reports them (see
// [continuation.WithStepBudget]).
//
// # Errors
//
// A handler returns an error instead of writing an error response. If it has written
// nothing yet, the error is answered with a short plain-text response:
//
//   - refused by the scheduler ([continuation.ErrOverloaded]), or the scheduler is closed
//     or gave up on the request: 503 Service Unavailable, with Retry-After;
//   - a deadline (errors.Is(err, context.DeadlineExceeded)): 504 Gateway Timeout;
//   - a [*StatusError]: its code;
//   - a panic (a *future.PanicError): 500, and an error with the stack through the logger;
//   - anything else: 500.
//
// The text is the status's own, never the error's (which may hold internal details); use
// [WithErrorHandler] to answer otherwise. If the handler had already written, the response
// cannot be fixed: the connection is aborted as net/http does for [http.ErrAbortHandler],
// so the client sees a broken response, never a truncated one that looks whole. If the
// client has gone, nothing is written.
//
// # Shutdown
//
// Stop in this order: [http.Server.Shutdown] (no new connections; waits for the requests
// under way), then [continuation.Scheduler.Shutdown] (waits for continuations, and gives
// up on them with a 503 if its context ends), then the pool's Shutdown. Every request the
// scheduler admitted is answered.
package httpadapter

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"reflect"
	"runtime"
	"strconv"
	"time"

	"github.com/gosuspend/suspend/continuation"
	"github.com/gosuspend/suspend/future"
	"github.com/gosuspend/suspend/pool"
)

// HandlerFunc is a request handler that may suspend: it awaits futures with c, writes its
// response to w, and returns an error instead of writing an error response (see the
// package doc).
type HandlerFunc func(c *continuation.C, w http.ResponseWriter, r *http.Request) error

// StatusError is an error that asks for an HTTP status code in the response. Err is the
// cause, for logs and errors.Is; it is not shown to the client.
type StatusError struct {
	Code int
	Err  error
}

// Error returns "http status" and the code, and the cause if there is one.
func (e *StatusError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("http status %d", e.Code)
	}
	return fmt.Sprintf("http status %d: %v", e.Code, e.Err)
}

// Unwrap returns the cause, for errors.Is and errors.As.
func (e *StatusError) Unwrap() error { return e.Err }

// handler serves requests with a HandlerFunc on a scheduler.
type handler struct {
	s *continuation.Scheduler
	h HandlerFunc
	options
}

// New returns an [http.Handler] that runs h on s for each request, as a continuation
// driven by the serving goroutine. It panics if s or h is nil.
func New(s *continuation.Scheduler, h HandlerFunc, opts ...Option) http.Handler {
	if s == nil {
		panic("httpadapter: New called with a nil *continuation.Scheduler")
	}
	if h == nil {
		panic("httpadapter: New called with a nil HandlerFunc")
	}
	return &handler{s: s, h: h, options: buildOptions(opts)}
}

// Wrap returns an [http.Handler] that runs h on s for each request, as [New] does. h is
// a plain handler, so it never suspends: it runs under the scheduler's bound, admission
// and error handling, and behaves as it did on plain net/http otherwise. It panics if s or
// h is nil.
//
// What Wrap bounds: a wrapped handler holds its slot for all it does except its request
// and response I/O (see the package doc). One that blocks on an upstream call or a
// database query holds its slot for that long, as a threaded worker would: the pool then
// serves W such requests at once. To wait without a slot, write the handler with [New]
// and make the call with [continuation.Blocking] or [continuation.Await].
func Wrap(s *continuation.Scheduler, h http.Handler, opts ...Option) http.Handler {
	if s == nil {
		panic("httpadapter: Wrap called with a nil *continuation.Scheduler")
	}
	if h == nil {
		panic("httpadapter: Wrap called with a nil http.Handler")
	}
	return New(s, func(_ *continuation.C, w http.ResponseWriter, r *http.Request) error {
		h.ServeHTTP(w, r)
		return nil
	}, opts...)
}

func (a *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if a.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, a.timeout)
		defer cancel()
		r = r.WithContext(ctx)
	}
	rw := &responseWriter{ResponseWriter: w, h: a.h, r: r}
	if r.Body != nil && r.Body != http.NoBody {
		// Reads of the body wait on the client: they give the slot back. The reader lives
		// in rw, so that a request with a body costs no allocation more.
		rw.body.ReadCloser, rw.body.w = r.Body, rw
		r.Body = &rw.body
	}
	opts := [2]continuation.SpawnOption{}
	if a.label != nil {
		opts[0] = continuation.WithLabel(a.label(r))
	} else {
		opts[0] = continuation.WithLabel(r.Method + " " + r.URL.Path)
	}
	n := 1
	if a.priority != nil {
		pr := a.priority(r)
		if int(pr) >= len(priorities) {
			panic(fmt.Sprintf("httpadapter: the WithPriority function returned unknown pool.Priority %d", pr))
		}
		opts[1] = priorities[pr]
		n++
	}
	_, err := continuation.Run(a.s, ctx, rw.serve, opts[:n]...)
	rw.c = nil // the body has returned: I/O after it holds no slot
	if err != nil {
		a.fail(rw, r, err)
	}
}

// fail answers err, or aborts the response if it was under way.
func (a *handler) fail(rw *responseWriter, r *http.Request, err error) {
	var pe *future.PanicError
	if errors.As(err, &pe) {
		if pe.Value == http.ErrAbortHandler {
			panic(http.ErrAbortHandler) // the handler asked for it: let net/http do it
		}
		a.logger.ErrorContext(r.Context(), "httpadapter: handler panicked",
			"method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(pe.Value),
			"stack", string(pe.Stack))
	}
	if rw.written {
		panic(http.ErrAbortHandler)
	}
	if r.Context().Err() != nil && errors.Is(err, context.Canceled) {
		return // the client went away: nobody reads an answer
	}
	code := StatusCode(err)
	if a.onError != nil {
		a.onError(rw.ResponseWriter, r, code, err)
		return
	}
	h := rw.Header()
	h.Del("Content-Length")
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	if code == http.StatusServiceUnavailable {
		h.Set("Retry-After", strconv.Itoa(int(a.retryAfter/time.Second)))
	}
	rw.ResponseWriter.WriteHeader(code)
	io.WriteString(rw.ResponseWriter, http.StatusText(code)+"\n")
}

// StatusCode returns the HTTP status a handler's error is answered with (see the package
// doc).
func StatusCode(err error) int {
	var se *StatusError
	var pe *future.PanicError
	switch {
	case err == nil:
		return http.StatusOK
	case errors.As(err, &se):
		return se.Code
	case errors.As(err, &pe):
		return http.StatusInternalServerError
	case errors.Is(err, continuation.ErrOverloaded),
		errors.Is(err, continuation.ErrClosed),
		errors.Is(err, continuation.ErrStopped):
		return http.StatusServiceUnavailable
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	}
	return http.StatusInternalServerError
}

// inlineBytes is how much of a response body a handler may write holding its slot: net/http
// buffers the first 2,048 bytes of an HTTP/1.x body (4,096 for HTTP/2) before any reaches
// the connection, so such writes cannot wait on the client. Later writes, Flush and
// ReadFrom may: they give the slot back while they run (see continuation.Blocking), which
// costs about 60 ns when nothing else waits for the slot, after the stack walk of onBody.
const inlineBytes = 2048

// responseWriter makes the response's I/O slot-free, notes whether the response has
// begun, and passes everything else on. Unwrap lets [http.ResponseController] reach the
// server's writer.
type responseWriter struct {
	http.ResponseWriter
	c       *continuation.C // while the handler runs: whose slot I/O gives back
	written bool            // the response has begun
	sent    int             // body bytes written so far, up to past inlineBytes
	body    requestBody     // r.Body, when the request has one

	h HandlerFunc   // what serve runs
	r *http.Request // and with what
}

// serve is the request's continuation body. Its frame on a goroutine's stack is what tells
// the I/O of the body's own goroutine, which holds the slot, from that of a goroutine the
// handler started, which holds none (see onBody). It must stay a frame of its own.
//
//go:noinline
func (w *responseWriter) serve(c *continuation.C) (struct{}, error) {
	w.c = c
	return struct{}{}, w.h(c, w, w.r)
}

// serveStart and serveEnd bound the code of serve.
var serveStart, serveEnd = codeOf(reflect.ValueOf((*responseWriter).serve).Pointer())

// codeOf returns the range of the code of the function whose entry is entry.
func codeOf(entry uintptr) (start, end uintptr) {
	same := func(pc uintptr) bool {
		f := runtime.FuncForPC(pc)
		return f != nil && f.Entry() == entry
	}
	lo, hi := entry, entry+1
	for same(hi) { // past the end, by doubling
		lo, hi = hi, entry+2*(hi-entry)
	}
	for hi-lo > 1 { // then to it, by halving
		if mid := lo + (hi-lo)/2; same(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return entry, hi
}

// onBody reports whether the caller runs on the goroutine of the handler's body, within
// 32 frames of serve: only that goroutine holds the slot, and only it may give the slot
// back. A handler may hand the writer or the body to a goroutine of its own (one it
// awaits, for example); that goroutine's I/O holds no slot and gives none back. Walking
// the stack costs about 0.5 µs, paid only by I/O that may wait on the client.
func onBody() bool {
	var pcs [32]uintptr
	n := runtime.Callers(4, pcs[:]) // from the caller of the I/O method
	for _, pc := range pcs[:n] {
		if pc-1 >= serveStart && pc-1 < serveEnd {
			return true
		}
	}
	return false
}

// slotFree reports whether the I/O about to be made should give the slot back: the
// handler runs, and its own goroutine makes the I/O.
func (w *responseWriter) slotFree() bool { return w.c != nil && onBody() }

func (w *responseWriter) WriteHeader(code int) {
	if code >= 200 || code == http.StatusSwitchingProtocols {
		w.written = true // informational headers (1xx) do not begin the response
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(b []byte) (int, error) {
	w.written = true
	if w.sent <= inlineBytes {
		w.sent += len(b)
	}
	if w.sent <= inlineBytes || !w.slotFree() {
		return w.ResponseWriter.Write(b) // lands in the server's buffer, or holds no slot
	}
	return continuation.Blocking(w.c, func() (int, error) { return w.ResponseWriter.Write(b) })
}

func (w *responseWriter) ReadFrom(src io.Reader) (int64, error) {
	w.written = true
	w.sent = inlineBytes + 1
	copyFrom := func() (int64, error) {
		if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
			return rf.ReadFrom(src)
		}
		return io.Copy(w.ResponseWriter, src)
	}
	if !w.slotFree() {
		return copyFrom()
	}
	return continuation.Blocking(w.c, copyFrom)
}

// Flush makes the writer an [http.Flusher], for handlers that assert it.
func (w *responseWriter) Flush() { _ = w.FlushError() }

// FlushError is what [http.ResponseController.Flush] calls: it flushes and returns the
// error, if any.
func (w *responseWriter) FlushError() error {
	w.written = true
	w.sent = inlineBytes + 1 // the server's buffer is no longer a bound on what may block
	flush := func() (struct{}, error) {
		return struct{}{}, http.NewResponseController(w.ResponseWriter).Flush()
	}
	if !w.slotFree() {
		_, err := flush()
		return err
	}
	_, err := continuation.Blocking(w.c, flush)
	return err
}

// Hijack makes the writer an [http.Hijacker]; it returns an error that matches
// [http.ErrNotSupported] when the server's writer is not one (HTTP/2), and the response
// has then not begun.
func (w *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err == nil {
		w.written = true
	}
	return conn, brw, err
}

// requestBody is the request's body, read without holding the slot.
type requestBody struct {
	io.ReadCloser
	w *responseWriter
}

func (b *requestBody) Read(p []byte) (int, error) {
	if !b.w.slotFree() {
		return b.ReadCloser.Read(p)
	}
	return continuation.Blocking(b.w.c, func() (int, error) { return b.ReadCloser.Read(p) })
}

func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Option configures the handlers made by [New] and [Wrap]. When an option is given more
// than once, the last one wins.
type Option interface {
	apply(*options)
}

type options struct {
	timeout    time.Duration
	label      func(*http.Request) string
	priority   func(*http.Request) pool.Priority
	onError    func(w http.ResponseWriter, r *http.Request, code int, err error)
	logger     *slog.Logger
	retryAfter time.Duration
}

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

func buildOptions(opts []Option) options {
	o := options{logger: slog.Default(), retryAfter: time.Second}
	for _, opt := range opts {
		opt.apply(&o)
	}
	return o
}

// WithTimeout bounds each request with a context deadline d after it arrives. Suspended
// time counts, since it is the client's wait: a handler still waiting at the deadline is
// resumed with [context.DeadlineExceeded] and, if it returns that error, answered 504.
// A handler that runs without awaiting is not interrupted (Go cannot preempt it). Zero,
// the default, sets no deadline. WithTimeout panics if d is negative.
func WithTimeout(d time.Duration) Option {
	if d < 0 {
		panic("httpadapter: WithTimeout called with a negative duration")
	}
	return optionFunc(func(o *options) { o.timeout = d })
}

// WithLabel sets how a request is named in the scheduler's Snapshot and warnings. The
// default is the method and the path, as in "GET /users". It panics if fn is nil.
func WithLabel(fn func(*http.Request) string) Option {
	if fn == nil {
		panic("httpadapter: WithLabel called with a nil function")
	}
	return optionFunc(func(o *options) { o.label = fn })
}

// WithPriority sets the priority with which each request is admitted to the pool, as fn
// gives it (see [continuation.WithPriority]); the default is [pool.Normal] for all. A
// request waits for its first slot behind requests being resumed, requests of a higher
// priority and older ones of its own.
//
// Give [pool.Low] to the CPU-bound requests: the bound keeps them from crowding the
// cores, the others are admitted ahead of them, and each yields the processor once before
// it takes its slot, so that the goroutines serving the other requests are not kept
// waiting behind it. Give High to requests that must not wait behind other new ones, such
// as health checks. A steady stream of higher-priority requests that hold their slots
// long would starve the lower ones.
//
// WithPriority panics if fn is nil; the handler panics if fn returns a priority the pool
// package does not define.
func WithPriority(fn func(*http.Request) pool.Priority) Option {
	if fn == nil {
		panic("httpadapter: WithPriority called with a nil function")
	}
	return optionFunc(func(o *options) { o.priority = fn })
}

// priorities holds the SpawnOption of each pool.Priority, made once rather than per request.
var priorities = [...]continuation.SpawnOption{
	pool.Normal: continuation.WithPriority(pool.Normal),
	pool.High:   continuation.WithPriority(pool.High),
	pool.Low:    continuation.WithPriority(pool.Low),
}

// WithErrorHandler sets what answers a handler's error when nothing was written yet: fn
// gets the status code the package doc gives and the error, and writes the response. The
// default writes the status text as plain text (and Retry-After with 503).
// It panics if fn is nil.
func WithErrorHandler(fn func(w http.ResponseWriter, r *http.Request, code int, err error)) Option {
	if fn == nil {
		panic("httpadapter: WithErrorHandler called with a nil function")
	}
	return optionFunc(func(o *options) { o.onError = fn })
}

// WithLogger sets where panics are logged. The default is [slog.Default] at the time the
// handler is made. It panics if l is nil.
func WithLogger(l *slog.Logger) Option {
	if l == nil {
		panic("httpadapter: WithLogger called with a nil *slog.Logger")
	}
	return optionFunc(func(o *options) { o.logger = l })
}

// WithRetryAfter sets the Retry-After of 503 responses, in whole seconds. The default is
// one second. It panics if d is negative.
func WithRetryAfter(d time.Duration) Option {
	if d < 0 {
		panic("httpadapter: WithRetryAfter called with a negative duration")
	}
	return optionFunc(func(o *options) { o.retryAfter = d })
}
