package invokeapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/albedo-lb/albedo/internal/intake"
	"github.com/albedo-lb/albedo/targetgroup/executor"
)

// Admin server limits.
const (
	readTimeout  = time.Minute
	writeTimeout = 20 * time.Minute // an Invoke answers after up to 15 min; WriteTimeout starts after the handler
	idleTimeout  = 2 * time.Minute
)

// Server is the admin listener's HTTP server for an API. Build it with
// NewServer.
type Server struct {
	api *API
	srv *fasthttp.Server
}

// NewServer returns the admin server of a: bodies streamed to Handle (a
// 1-byte prefetch: intake), headers up to ReadBufferSize, an
// "Expect: 100-continue" answered from the head (a request that would be
// refused never gets 100), and Lambda-shaped errors for requests fasthttp
// cannot read.
func (a *API) NewServer() *Server {
	return &Server{api: a, srv: &fasthttp.Server{
		Handler:            a.Handle,
		ErrorHandler:       a.handleReadError,
		ExpectHandler:      a.expect,
		Name:               "albedo",
		ReadTimeout:        readTimeout,
		WriteTimeout:       writeTimeout,
		IdleTimeout:        idleTimeout,
		ReadBufferSize:     ReadBufferSize,
		StreamRequestBody:  true,
		MaxRequestBodySize: intake.PrefetchSize,
		ReduceMemoryUsage:  true,
		// Read errors are fasthttp's sentinels, never quoting the request.
		SecureErrorLogMessage:        true,
		DisablePreParseMultipartForm: true,
		Logger:                       fasthttpLogger{a.log},
	}}
}

// Serve serves ln until Shutdown; connections go through intake.Listen
// (a header block ending with a bare LF is answered 400 at once).
func (s *Server) Serve(ln net.Listener) error {
	return s.srv.Serve(intake.Listen(ln))
}

// ShutdownWithContext stops accepting and waits for in-flight requests,
// until ctx ends.
func (s *Server) ShutdownWithContext(ctx context.Context) error {
	return s.srv.ShutdownWithContext(ctx)
}

// expect answers "Expect: 100-continue" from the head: a request Handle
// would refuse before reading its body (Host, Origin, signature, declared
// size) gets that answer instead of 100, and the client never sends the
// body.
func (a *API) expect(ctx *fasthttp.RequestCtx) (status int) {
	defer func() {
		if p := recover(); p != nil {
			a.log.LogAttrs(context.Background(), slog.LevelError, "panic in admin expect handler",
				slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
			writeError(ctx, errService("An internal error occurred."), executor.NewRequestID())
			status = fasthttp.StatusInternalServerError
		}
	}()
	if a.expectRoute(ctx) {
		return fasthttp.StatusContinue
	}
	_, e := a.checkHead(ctx)
	if e == nil {
		if limit, op := bodyLimit(ctx); ctx.Request.Header.ContentLength() > limit {
			e = errTooLarge(0, limit, op)
		}
	}
	if e == nil {
		return fasthttp.StatusContinue
	}
	writeError(ctx, e, executor.NewRequestID())
	return e.Status
}

// handleReadError answers requests fasthttp could not read, in Lambda's
// error shape: 408 for a client too slow to send its head, 400 otherwise
// (a header block ending with a bare LF, malformed requests).
func (a *API) handleReadError(ctx *fasthttp.RequestCtx, err error) {
	var ne net.Error
	var e *apiError
	switch {
	case errors.Is(err, intake.ErrBareLF):
		e = newError(fasthttp.StatusBadRequest, excInvalidRequestContent,
			"The request's header block ends with a bare LF: end header lines with CRLF.")
	case errors.As(err, &ne) && ne.Timeout():
		e = newError(fasthttp.StatusRequestTimeout, excInvalidRequestContent, "The request was not received in time.")
	default:
		e = newError(fasthttp.StatusBadRequest, excInvalidRequestContent, "The HTTP request could not be parsed.")
	}
	writeError(ctx, e, executor.NewRequestID())
}

// fasthttpLogger routes fasthttp's own messages to slog at debug level
// (they are mostly clients going away).
type fasthttpLogger struct{ l *slog.Logger }

func (f fasthttpLogger) Printf(format string, args ...any) {
	if f.l.Enabled(context.Background(), slog.LevelDebug) {
		f.l.Debug(fmt.Sprintf(format, args...))
	}
}
