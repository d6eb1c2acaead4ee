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
// Write or WriteString past the first 2,048 bytes of the body, [http.Flusher]'s Flush and
// [http.ResponseController]'s, io.Copy into the writer, [http.Pusher]'s Push), give the
// slot back while they run and take it again after, as [continuation.Blocking] does, over
// HTTP/1.x and HTTP/2 alike. A slow client, uploading or downloading, then costs a goroutine and a
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
// # The writer
//
// The writer a handler gets offers exactly the optional interfaces of the server's:
// [http.Flusher], [io.ReaderFrom], [http.Hijacker], [http.Pusher], [io.StringWriter] and
// [http.CloseNotifier] (HTTP/1.x: all but Pusher; HTTP/2: Flusher, Pusher, StringWriter
// and CloseNotifier), so that code which asserts them chooses as it would on plain
// net/http. This holds for net/http's writers, httptest.ResponseRecorder,
// http.TimeoutHandler's, and those of the common middleware around them (httpsnoop's,
// which keep net/http's sets, promhttp's and chi's); for another set, the writer offers
// the largest of those sets that it contains, never an interface the server's lacks. Its
// Unwrap returns the server's writer: [http.ResponseController] reaches the rest through
// it (SetReadDeadline, SetWriteDeadline, EnableFullDuplex), and its Flush returns the
// server's error.
//
// # Errors
//
// A handler returns an error instead of writing an error response. If it has written
// nothing yet, the error is answered with a short plain-text response. (A Hijack that
// fails writes nothing; a Flush writes the header, even if it fails, as net/http does.)
// The status is:
//
//   - refused by the scheduler ([continuation.ErrOverloaded]), or the scheduler is closed
//     or gave up on the request: 503 Service Unavailable, with Retry-After (see
//     [WithRetryAfter]; 429 for ErrOverloaded with [WithOverloadStatus]);
//   - a deadline (errors.Is(err, context.DeadlineExceeded)): 504 Gateway Timeout;
//   - a [*StatusError]: its code;
//   - a panic (a *future.PanicError): 500;
//   - anything else: 500.
//
// A request refused before it gets a slot never reaches the handler. Its refusal's error
// is answered as above; by the reason [continuation.Stats] counts it under, that is:
//
//   - Overloaded (the alive bound, or the pool's queue is full) and Shed (the pool's
//     queueing delay, see pool.WithQueueDelay): 503, or 429 with WithOverloadStatus,
//     with Retry-After;
//   - Closed (the scheduler or the pool is shutting down): 503, with Retry-After;
//   - Late (the request's deadline, from [WithTimeout] or [WithTimeoutHeader], passed
//     before it got a slot, or the pool's queueing delay would pass it): 504, without
//     Retry-After;
//   - Cancelled (its client went away first): no one is left to answer.
//
// The text is the status's own, never the error's (which may hold internal details); use
// [WithErrorHandler] to answer otherwise. The answer carries none of the headers that
// describe the response the handler meant to send: those of its body (Content-Length,
// Content-Range, Content-Digest, Repr-Digest, Digest, Content-MD5) and the representation
// headers the handler set (Content-Type, Content-Encoding, Content-Language,
// Content-Location, Content-Disposition, ETag, Last-Modified, Cache-Control,
// CDN-Cache-Control, Surrogate-Control, Expires, and Trailer with the trailers it
// declares). The others stay, for they are about the request, the client or the site,
// not the representation: Vary (a cache must still tell apart what the headers kept may
// differ by), Set-Cookie (the state it sets may have changed already: clear it before
// returning the error if not), the CORS headers (without them a browser hides the error
// from the page), Location, Link and the security headers. A representation header that
// was in the response before the handler ran was set by middleware around the adapter,
// for whatever the response is, and stays too.
//
// So a compressing middleware around the adapter works as with [http.Error]: if it set
// Content-Encoding before calling the adapter and compresses what goes through its
// writer, it compresses the error response as well, which says so; if it decides when
// the response begins, it sees the plain-text error response begin. One inside the
// handler (which wraps the writer the handler gets) is bypassed: the error response goes
// to the server's writer, uncompressed, and the Content-Encoding it set is dropped.
//
// If the handler had already written, the response cannot be fixed, and the client must
// not take the part it got for the whole: the response is aborted, with a panic of
// [http.ErrAbortHandler] that middleware around the adapter sees and net/http handles.
// Over HTTP/2 the stream is then reset (RST_STREAM); over HTTP/1.1 the connection is
// closed before the end of a chunked or Content-Length body. A body that ends where the
// connection does (HTTP/1.0, or Transfer-Encoding: identity, without Content-Length)
// would look whole however the connection closes: it is reset (TCP RST) instead, which a
// client sees as an error, even if part of what was sent is lost. Over a connection that
// is not TCP, or whose server writer cannot be hijacked, such a cut cannot be told.
//
// A client that has gone gets no abort: there is nobody to abort for, and middleware
// would see a panic for every client that leaves an event stream. The adapter takes the
// client for gone when the server canceled the request's context (not a deadline, which
// may be a middleware's) or a write or flush to it failed; it then returns quietly. So
// that a client wrongly taken for gone still never sees a cut response end normally, an
// HTTP/1.x connection is then reset, and a response not begun gets the plain-text
// answer. The exception is HTTP/2 with a request context canceled by something other
// than the server (a middleware, or an http.Server.BaseContext canceled while the client
// is there): a stream cut short then ends normally.
//
// Failures are logged, with the request's method and path, through the logger (see
// [WithLogger]): errors answered with a 5xx status, with the status and the error, and
// aborted responses, with the error, at the level [WithErrorLogLevel] sets
// ([slog.LevelError] by default); panics at slog.LevelError, with their stack. Refusals,
// which come by the thousand a second under overload and are counted by
// [continuation.Scheduler.Stats] (requests answered before the handler ran, whatever the
// status, and 503s for [continuation.ErrOverloaded], [continuation.ErrClosed] or
// [continuation.ErrStopped] returned by the handler), and the errors of requests whose
// client had gone, are logged at [slog.LevelDebug]. Other errors answered 4xx are not
// logged: they are the client's.
//
// # Shutdown
//
// [Shutdown] stops the server, the scheduler and the pool in the one order that answers
// every request the scheduler admitted, tells long-lived handlers to finish (see
// [continuation.Scheduler.Closing]), and returns by its context's deadline. Handle SIGINT
// and SIGTERM with it (see the examples), and wait for it before main returns.
package httpadapter

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
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
	client := r.Context() // as the server made it: canceled when the client goes away
	ctx := client
	timeout := a.timeout
	if a.timeoutHeader != "" {
		if d, ok := parseTimeout(r.Header.Get(a.timeoutHeader)); ok && (timeout == 0 || d < timeout) {
			timeout = d
		}
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
		r = r.WithContext(ctx)
	}
	rw := wrap(w)
	rw.h, rw.r = a.h, r
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
		a.fail(rw, r, client, err)
	}
}

// fail answers err, or ends the response if it was under way (see the package doc's
// Errors). client is the request's context as the server made it.
func (a *handler) fail(rw *responseWriter, r *http.Request, client context.Context, err error) {
	var pe *future.PanicError
	if errors.As(err, &pe) && pe.Value == http.ErrAbortHandler {
		panic(http.ErrAbortHandler) // the handler asked for it: let net/http do it
	}
	// The server cancels the request's context when the client goes away (a deadline may
	// be a middleware's, with the client still there), and when a write to it fails.
	gone := rw.broken || errors.Is(client.Err(), context.Canceled)
	code := StatusCode(err)
	if code == http.StatusServiceUnavailable && a.overloadStatus != 0 && errors.Is(err, continuation.ErrOverloaded) {
		code = a.overloadStatus
	}
	how := answered
	switch {
	case rw.hijacked:
		how = hijacked
	case gone:
		how = left
	case rw.written:
		how = aborted
	}
	a.report(client, r, code, err, pe, how, rw.ran)
	switch {
	case rw.hijacked:
		return // the connection is the handler's
	case rw.written:
		if r.ProtoMajor == 1 && (gone || rw.closeDelimited()) {
			rw.cut()
		}
		if !gone {
			panic(http.ErrAbortHandler) // net/http resets an HTTP/2 stream, closes a connection
		}
		return // nobody to abort for: not through the middleware around us
	}
	rw.dropRepresentation()
	if a.onError != nil && !gone {
		a.onError(rw.ResponseWriter, r, code, err)
		return
	}
	// To a client that has gone, the answer goes nowhere; one wrongly taken for gone gets
	// it rather than the empty 200 that net/http would send for a handler that wrote
	// nothing.
	h := rw.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	if code == http.StatusServiceUnavailable || code == http.StatusTooManyRequests {
		if v := a.retryAfterValue(); v != "" {
			h.Set("Retry-After", v)
		}
	}
	rw.ResponseWriter.WriteHeader(code)
	io.WriteString(rw.ResponseWriter, http.StatusText(code)+"\n")
}

// outcome is what became of a request whose handler failed.
type outcome int

const (
	answered outcome = iota // with an error response
	aborted                 // the response had begun
	left                    // the client had gone
	hijacked                // the connection was the handler's
)

// report logs a failure, at the level the package doc's Errors gives.
// ran is false for a request refused before the handler ran.
func (a *handler) report(ctx context.Context, r *http.Request, code int, err error,
	pe *future.PanicError, how outcome, ran bool) {
	level, msg := a.errorLevel, "httpadapter: request failed"
	switch {
	case pe != nil:
		level, msg = slog.LevelError, "httpadapter: handler panicked"
	case how == left:
		level, msg = slog.LevelDebug, "httpadapter: client went away"
	case how == aborted:
		msg = "httpadapter: response aborted"
	case how == answered && (!ran || code == http.StatusServiceUnavailable && refused(err)):
		level, msg = slog.LevelDebug, "httpadapter: request refused"
	case code < 500:
		return // the client's error, not the server's
	}
	l := a.logger
	if l == nil {
		l = a.s.Logger() // as it is now: slog.SetDefault after New takes effect
	}
	if !l.Enabled(ctx, level) {
		return
	}
	attrs := make([]slog.Attr, 0, 5)
	attrs = append(attrs, slog.String("method", r.Method), slog.String("path", r.URL.Path))
	if how == answered {
		attrs = append(attrs, slog.Int("status", code))
	}
	if pe != nil {
		attrs = append(attrs, slog.String("panic", fmt.Sprint(pe.Value)),
			slog.String("stack", string(pe.Stack)))
	} else {
		attrs = append(attrs, slog.Any("error", err))
	}
	l.LogAttrs(ctx, level, msg, attrs...)
}

// refused reports whether err is the scheduler's refusal: overload, or a shutdown.
func refused(err error) bool {
	return errors.Is(err, continuation.ErrOverloaded) ||
		errors.Is(err, continuation.ErrClosed) ||
		errors.Is(err, continuation.ErrStopped)
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
	case refused(err):
		return http.StatusServiceUnavailable
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	}
	return http.StatusInternalServerError
}

// bodyHeaders describe the bytes of a body: none fits an error response's.
var bodyHeaders = [...]string{
	"Content-Length", "Content-Range", "Content-Digest", "Repr-Digest", "Digest", "Content-Md5",
}

// representationHeaders describe the representation a handler meant to send (RFC 9110
// §8.3–8.8, RFC 9111 §5, RFC 9213, RFC 6266), or announce trailers for it (RFC 9110
// §6.6.2), as do the headers named with http.TrailerPrefix. An error response drops
// those the handler set, and keeps those a middleware set before the handler ran, which
// are meant for whatever the response is. Vary is not one: it may be what a cache needs
// to tell apart the headers kept, such as CORS's.
var representationHeaders = [...]string{
	"Cache-Control", "Cdn-Cache-Control", "Content-Disposition", "Content-Encoding",
	"Content-Language", "Content-Location", "Content-Type", "Etag", "Expires",
	"Last-Modified", "Surrogate-Control", "Trailer",
}

// isRepresentation reports whether k, a canonical header name, is a representation
// header.
func isRepresentation(k string) bool {
	return slices.Contains(representationHeaders[:], k) || strings.HasPrefix(k, http.TrailerPrefix)
}

// presetHeader is a representation header as it was before the handler ran.
type presetHeader struct {
	key  string
	vals []string // the map's own slice: Set replaces it, Add appends past its length
}

// presetOf returns the representation headers in h, a response's headers before the
// handler runs: usually none, with h empty, and then it allocates nothing.
func presetOf(h http.Header) []presetHeader {
	n := 0
	for k := range h {
		if isRepresentation(k) {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	preset := make([]presetHeader, 0, n)
	for k, v := range h {
		if isRepresentation(k) {
			preset = append(preset, presetHeader{k, v})
		}
	}
	return preset
}

// dropRepresentation removes from the response's headers those that describe the response
// the handler meant to send, before an error response is written, and restores the
// representation headers that were there before the handler ran.
func (w *responseWriter) dropRepresentation() {
	h := w.ResponseWriter.Header()
	for _, k := range bodyHeaders {
		delete(h, k)
	}
	for _, v := range h["Trailer"] { // the fields it declares, if the handler set them already
		for f := range strings.SplitSeq(v, ",") {
			delete(h, http.CanonicalHeaderKey(strings.TrimSpace(f)))
		}
	}
	for k := range h {
		if isRepresentation(k) {
			delete(h, k)
		}
	}
	for _, p := range w.preset {
		h[p.key] = p.vals
	}
}

// closeDelimited reports whether the response's body may end where the connection does,
// as net/http sends a body without Content-Length to an HTTP/1.0 request or with
// Transfer-Encoding: identity: such a body cut short cannot be told from a whole one.
func (w *responseWriter) closeDelimited() bool {
	h := w.ResponseWriter.Header()
	if _, ok := h["Content-Length"]; ok {
		return false
	}
	return !w.r.ProtoAtLeast(1, 1) || h.Get("Transfer-Encoding") == "identity"
}

// cut closes an HTTP/1.x connection with a reset (TCP RST): the client sees an error
// whatever the response's framing, where a plain close would end a close-delimited body
// as if it were whole. It does nothing if the server's writer cannot be hijacked.
func (w *responseWriter) cut() {
	conn, _, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return
	}
	w.hijacked = true
	if tc, ok := conn.(interface{ NetConn() net.Conn }); ok {
		conn = tc.NetConn() // no TLS close_notify: it would say that the body ended
	}
	if l, ok := conn.(interface{ SetLinger(sec int) error }); ok {
		_ = l.SetLinger(0) // Close then resets the connection
	}
	_ = conn.Close()
}

// inlineBytes is how much of a response body a handler may write holding its slot: net/http
// buffers the first 2,048 bytes of an HTTP/1.x body (4,096 for HTTP/2) before any reaches
// the connection, so such writes cannot wait on the client. Later writes, Flush, ReadFrom
// and Push may: they give the slot back while they run (see continuation.Blocking), which
// costs about 115 ns when nothing else waits for the slot, after the stack walk of onBody.
const inlineBytes = 2048

// responseWriter makes the response's I/O slot-free, notes whether the response has
// begun, and passes everything else on. Unwrap lets [http.ResponseController] reach the
// server's writer. A handler gets it within a type that offers the optional interfaces of
// the server's writer (see wrap); it offers none of them itself.
type responseWriter struct {
	http.ResponseWriter
	self     http.ResponseWriter // what the handler gets: the writer that holds this one
	c        *continuation.C     // while the handler runs: whose slot I/O gives back
	ran      bool                // the handler was called: the request was not refused
	written  bool                // the response has begun
	hijacked bool                // the connection is no longer the server's
	broken   bool                // a write or flush to the client failed
	preset   []presetHeader      // representation headers set before the handler ran
	sent     int                 // body bytes written so far, up to past inlineBytes
	body     requestBody         // r.Body, when the request has one

	h HandlerFunc   // what serve runs
	r *http.Request // and with what
}

// serve is the request's continuation body. Its frame on a goroutine's stack is what tells
// the I/O of the body's own goroutine, which holds the slot, from that of a goroutine the
// handler started, which holds none (see onBody). It must stay a frame of its own.
//
//go:noinline
func (w *responseWriter) serve(c *continuation.C) (struct{}, error) {
	w.c, w.ran = c, true
	return struct{}{}, w.h(c, w.self, w.r)
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

// wrote notes the result of a write or a flush to the client.
func (w *responseWriter) wrote(n int, err error) (int, error) {
	if err != nil {
		w.broken = true
	}
	return n, err
}

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
		return w.wrote(w.ResponseWriter.Write(b)) // lands in the server's buffer, or holds no slot
	}
	return w.wrote(continuation.Blocking(w.c, func() (int, error) { return w.ResponseWriter.Write(b) }))
}

func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// core returns w, for newWriter.
func (w *responseWriter) core() *responseWriter { return w }

// The methods of the optional interfaces, which the writer types below offer.

// writeString is io.StringWriter's WriteString, as Write.
func (w *responseWriter) writeString(s string) (int, error) {
	w.written = true
	if w.sent <= inlineBytes {
		w.sent += len(s)
	}
	sw := w.ResponseWriter.(io.StringWriter)
	if w.sent <= inlineBytes || !w.slotFree() {
		return w.wrote(sw.WriteString(s))
	}
	return w.wrote(continuation.Blocking(w.c, func() (int, error) { return sw.WriteString(s) }))
}

// readFrom is io.ReaderFrom's ReadFrom. Its error may be src's: it does not say that the
// client is gone.
func (w *responseWriter) readFrom(src io.Reader) (int64, error) {
	w.written = true
	w.sent = inlineBytes + 1
	rf := w.ResponseWriter.(io.ReaderFrom)
	if !w.slotFree() {
		return rf.ReadFrom(src)
	}
	return continuation.Blocking(w.c, func() (int64, error) { return rf.ReadFrom(src) })
}

// flushError is what [http.ResponseController.Flush] calls, and Flush: it returns the
// server's error. A flush sends the header first, even if it fails: the response has
// then begun, and a later WriteHeader would be ignored.
func (w *responseWriter) flushError() error {
	w.sent = inlineBytes + 1 // the server's buffer is no longer a bound on what may block
	flush := func() (int, error) { return 0, http.NewResponseController(w.ResponseWriter).Flush() }
	var err error
	if !w.slotFree() {
		_, err = flush()
	} else {
		_, err = continuation.Blocking(w.c, flush)
	}
	if !errors.Is(err, http.ErrNotSupported) {
		w.written = true
		if err != nil {
			w.broken = true
		}
	}
	return err
}

// hijack is http.Hijacker's Hijack: the response has not begun if it fails.
func (w *responseWriter) hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := w.ResponseWriter.(http.Hijacker).Hijack()
	if err == nil {
		w.written, w.hijacked = true, true
	}
	return conn, brw, err
}

// push is http.Pusher's Push, which waits for the promise to be written.
func (w *responseWriter) push(target string, opts *http.PushOptions) error {
	p := w.ResponseWriter.(http.Pusher)
	if !w.slotFree() {
		return p.Push(target, opts)
	}
	_, err := continuation.Blocking(w.c, func() (int, error) { return 0, p.Push(target, opts) })
	return err
}

// closeNotifier is http.CloseNotifier, deprecated but still asserted by old handlers.
type closeNotifier interface{ CloseNotify() <-chan bool }

func (w *responseWriter) closeNotify() <-chan bool {
	return w.ResponseWriter.(closeNotifier).CloseNotify()
}

// optional is a set of the optional interfaces of an http.ResponseWriter.
type optional uint8

const (
	hasFlusher       optional = 1 << iota // http.Flusher
	hasReaderFrom                         // io.ReaderFrom
	hasHijacker                           // http.Hijacker
	hasPusher                             // http.Pusher
	hasStringWriter                       // io.StringWriter
	hasCloseNotifier                      // http.CloseNotifier
	allOptional      = iota
)

// optionalOf returns the optional interfaces that w has.
func optionalOf(w http.ResponseWriter) (o optional) {
	if _, ok := w.(http.Flusher); ok {
		o |= hasFlusher
	}
	if _, ok := w.(io.ReaderFrom); ok {
		o |= hasReaderFrom
	}
	if _, ok := w.(http.Hijacker); ok {
		o |= hasHijacker
	}
	if _, ok := w.(http.Pusher); ok {
		o |= hasPusher
	}
	if _, ok := w.(io.StringWriter); ok {
		o |= hasStringWriter
	}
	if _, ok := w.(closeNotifier); ok {
		o |= hasCloseNotifier
	}
	return o
}

// The writer types a handler may get: responseWriter, and one for each set of optional
// interfaces that net/http's writers and the common wrappers of them offer (2^6 types
// would cover every set; these are the sets met in practice). Each embeds the type it
// extends with one or two interfaces, and is one allocation.
type (
	fWriter     struct{ responseWriter } // Flusher: net/http/cgi's; wrappers that pass on Flush only
	pWriter     struct{ responseWriter } // Pusher: http.TimeoutHandler's
	fsWriter    struct{ fWriter }        // + StringWriter: httptest.ResponseRecorder
	fpWriter    struct{ fWriter }        // + Pusher: HTTP/2 behind chi's middleware
	fpcWriter   struct{ fpWriter }       // + CloseNotifier: HTTP/2 behind promhttp's
	fpscWriter  struct{ fpcWriter }      // + StringWriter: net/http's HTTP/2
	frhWriter   struct{ fWriter }        // + ReaderFrom, Hijacker: HTTP/1.x behind chi's middleware
	frhcWriter  struct{ frhWriter }      // + CloseNotifier: HTTP/1.x behind promhttp's
	frhscWriter struct{ frhcWriter }     // + StringWriter: net/http's HTTP/1.x
)

// Flush makes the writer an [http.Flusher].
func (w *fWriter) Flush() { _ = w.flushError() }

// FlushError is what [http.ResponseController.Flush] calls: it flushes and returns the
// server's error.
func (w *fWriter) FlushError() error { return w.flushError() }

func (w *pWriter) Push(target string, opts *http.PushOptions) error  { return w.push(target, opts) }
func (w *fpWriter) Push(target string, opts *http.PushOptions) error { return w.push(target, opts) }
func (w *fsWriter) WriteString(s string) (int, error)                { return w.writeString(s) }
func (w *fpscWriter) WriteString(s string) (int, error)              { return w.writeString(s) }
func (w *frhscWriter) WriteString(s string) (int, error)             { return w.writeString(s) }
func (w *fpcWriter) CloseNotify() <-chan bool                        { return w.closeNotify() }
func (w *frhcWriter) CloseNotify() <-chan bool                       { return w.closeNotify() }
func (w *frhWriter) ReadFrom(src io.Reader) (int64, error)           { return w.readFrom(src) }

// Hijack makes the writer an [http.Hijacker], as the server's is (HTTP/1.x only); the
// response has not begun if it fails.
func (w *frhWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) { return w.hijack() }

// writers lists the writer types with the interfaces they offer, the larger sets first.
var writers = [...]struct {
	offers optional
	alloc  func() *responseWriter
}{
	{hasFlusher | hasReaderFrom | hasHijacker | hasStringWriter | hasCloseNotifier, newWriter[frhscWriter]},
	{hasFlusher | hasPusher | hasStringWriter | hasCloseNotifier, newWriter[fpscWriter]},
	{hasFlusher | hasReaderFrom | hasHijacker | hasCloseNotifier, newWriter[frhcWriter]},
	{hasFlusher | hasReaderFrom | hasHijacker, newWriter[frhWriter]},
	{hasFlusher | hasPusher | hasCloseNotifier, newWriter[fpcWriter]},
	{hasFlusher | hasPusher, newWriter[fpWriter]},
	{hasFlusher | hasStringWriter, newWriter[fsWriter]},
	{hasFlusher, newWriter[fWriter]},
	{hasPusher, newWriter[pWriter]},
	{0, newWriter[responseWriter]},
}

// writerFor holds, for each set of optional interfaces a server's writer may have, the
// allocator of the writer type that offers the most of them and none of the others: the
// very set, for the sets listed in writers.
var writerFor = func() (t [1 << allOptional]func() *responseWriter) {
	for has := range t {
		for _, w := range writers {
			if optional(has)&w.offers == w.offers {
				t[has] = w.alloc
				break
			}
		}
	}
	return t
}()

// newWriter allocates a writer of type W: the adapter's one allocation per request.
func newWriter[W any, P interface {
	*W
	http.ResponseWriter
	core() *responseWriter
}]() *responseWriter {
	p := P(new(W))
	rw := p.core()
	rw.self = p
	return rw
}

// wrap returns the writer for a request whose server's writer is w: one that offers the
// optional interfaces w has (see writerFor), and Unwrap. Selecting it costs about 11 ns;
// noting the representation headers already set costs about 12 ns, and an allocation
// only if a middleware set some.
func wrap(w http.ResponseWriter) *responseWriter {
	rw := writerFor[optionalOf(w)]()
	rw.ResponseWriter = w
	rw.preset = presetOf(w.Header())
	return rw
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
	logger     *slog.Logger // nil: the scheduler's, as it is when the handler logs
	errorLevel slog.Level
	retryAfter string // the header's value; empty: none, or computed (see retryAfterValue)
	retryFixed bool   // WithRetryAfter was given: retryAfter is the value

	overloadStatus int    // WithOverloadStatus; 0: 503
	timeoutHeader  string // WithTimeoutHeader; empty: none
}

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

func buildOptions(opts []Option) options {
	o := options{errorLevel: slog.LevelError}
	for _, opt := range opts {
		opt.apply(&o)
	}
	return o
}

// WithTimeout bounds each request with a context deadline d after it arrives. Suspended
// time counts, since it is the client's wait: a handler still waiting at the deadline is
// resumed with [context.DeadlineExceeded] and, if it returns that error, answered 504;
// a request still waiting for its first slot is refused, and answered 504 too (counted as
// Late in [continuation.Stats]). A handler that runs without awaiting is not interrupted
// (Go cannot preempt it). Zero, the default, sets no deadline. WithTimeout panics if d is
// negative.
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
// gets the status code the package doc gives and the error, and writes the response with
// w, the server's writer, whose headers no longer hold those the package doc's Errors
// says an error response drops. The default writes the status text as plain text (and
// Retry-After with 503). fn is not called for a client that has gone, nor after the
// response began; what it writes holds no slot. WithErrorHandler panics if fn is nil.
func WithErrorHandler(fn func(w http.ResponseWriter, r *http.Request, code int, err error)) Option {
	if fn == nil {
		panic("httpadapter: WithErrorHandler called with a nil function")
	}
	return optionFunc(func(o *options) { o.onError = fn })
}

// WithLogger sets where failures are logged (see the package doc's Errors). The default
// is the scheduler's logger ([continuation.Scheduler.Logger]) as it is when the handler
// logs: [slog.Default] at that time unless the scheduler or its pool was given one. It
// panics if l is nil.
func WithLogger(l *slog.Logger) Option {
	if l == nil {
		panic("httpadapter: WithLogger called with a nil *slog.Logger")
	}
	return optionFunc(func(o *options) { o.logger = l })
}

// WithErrorLogLevel sets the level at which errors answered with a 5xx status, and
// responses aborted after they began, are logged; the default is [slog.LevelError]. It
// does not change the level of panics ([slog.LevelError], with their stack), nor that of
// refusals and of requests whose client had gone ([slog.LevelDebug]): see the package
// doc's Errors.
func WithErrorLogLevel(level slog.Level) Option {
	return optionFunc(func(o *options) { o.errorLevel = level })
}

// WithRetryAfter sets a fixed Retry-After for the 503 (and 429) responses the handler
// writes, in whole seconds rounded up: 500ms sends "1", never "0", which would ask the
// client to retry at once. Zero sends no Retry-After, leaving the client to its own
// back-off. Without it, Retry-After is computed for each refusal: the time the scheduler
// takes to drain what is alive at the rate it has been ending continuations
// ([continuation.Scheduler.DrainRate]), from 1 to 60 seconds, jittered up by up to half
// so that clients refused together spread their retries. It panics if d is negative.
func WithRetryAfter(d time.Duration) Option {
	if d < 0 {
		panic("httpadapter: WithRetryAfter called with a negative duration")
	}
	v := ""
	if d > 0 {
		secs := d / time.Second
		if d%time.Second != 0 {
			secs++
		}
		v = strconv.FormatInt(int64(secs), 10)
	}
	return optionFunc(func(o *options) { o.retryAfter, o.retryFixed = v, true })
}

// maxRetryAfter bounds the Retry-After computed from the drain rate, in seconds.
const maxRetryAfter = 60

// retryAfterValue is the Retry-After of a refusal now: the one WithRetryAfter set, or the
// time the scheduler takes to drain the continuations alive now at its current rate (see
// continuation.Scheduler.DrainRate), in whole seconds from 1 to 60, jittered up by up to
// half, so that the clients refused together do not all come back together.
func (a *handler) retryAfterValue() string {
	if a.retryFixed {
		return a.retryAfter
	}
	secs := 1.0
	if rate := a.s.DrainRate(); rate > 0 {
		secs = float64(a.s.Alive()) / rate
	}
	secs *= 1 + rand.Float64()/2
	return strconv.Itoa(min(maxRetryAfter, max(1, int(math.Ceil(secs)))))
}

// WithOverloadStatus sets the status of the requests refused for overload (the
// scheduler's alive bound, or the pool's queue or its queueing delay; errors that match
// [continuation.ErrOverloaded]): 503 Service Unavailable, the default, or 429 Too Many
// Requests, which some clients and proxies retry differently. Both carry Retry-After.
// Refusals for a shutdown stay 503. It panics for any other code.
func WithOverloadStatus(code int) Option {
	if code != http.StatusServiceUnavailable && code != http.StatusTooManyRequests {
		panic(fmt.Sprintf("httpadapter: WithOverloadStatus called with %d; want 503 or 429", code))
	}
	return optionFunc(func(o *options) { o.overloadStatus = code })
}

// WithTimeoutHeader makes the handler take a deadline from the request header name, as
// the client's own: grpc-timeout's format ("100m", "2S": digits and one of H, M, S, m, u,
// n), a Go duration ("1.5s") or seconds ("2.5"). The request's context then ends at the
// nearer of that and WithTimeout's deadline, and a pool with a queue-delay control (see
// pool.WithQueueDelay) refuses at once a request whose deadline would pass in its queue
// (504, counted as Late).
// A missing, malformed or non-positive value sets no deadline. It panics if name is empty.
func WithTimeoutHeader(name string) Option {
	if name == "" {
		panic("httpadapter: WithTimeoutHeader called with an empty header name")
	}
	return optionFunc(func(o *options) { o.timeoutHeader = http.CanonicalHeaderKey(name) })
}

// grpcUnits are the units of grpc-timeout.
var grpcUnits = map[byte]time.Duration{
	'H': time.Hour, 'M': time.Minute, 'S': time.Second,
	'm': time.Millisecond, 'u': time.Microsecond, 'n': time.Nanosecond,
}

// parseTimeout parses a timeout header's value (see WithTimeoutHeader).
func parseTimeout(v string) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if unit, ok := grpcUnits[v[len(v)-1]]; ok && len(v) > 1 && len(v) <= 9 {
		if n, err := strconv.ParseInt(v[:len(v)-1], 10, 64); err == nil && n > 0 {
			return time.Duration(n) * unit, true
		}
	}
	if d, err := time.ParseDuration(v); err == nil {
		return d, d > 0
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil && f > 0 && f < 1e9 {
		return time.Duration(f * float64(time.Second)), true
	}
	return 0, false
}
