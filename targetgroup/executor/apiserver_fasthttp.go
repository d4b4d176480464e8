package executor

// EXPERIMENT (issue 14, item 5), to be deleted with the slower of the two:
// the Runtime API served by fasthttp instead of apiserver.go/apiwire.go,
// selected with ALBEDO_EXPERIMENT_RUNTIME_API=fasthttp. It covers the warm
// path the benchmarks drive (GET /next, POST /response and /error with the
// request id checked before the body is read, the 6 MB + 100 limit,
// trailers, init/error); the Extensions API answers 404.
//
// fasthttp runs the handler on the connection's worker goroutine and
// writes the answer when the handler returns, so a parked /next is a
// handler blocked on a channel: the invoking goroutine hands the
// invocation over through it instead of writing the answer itself.

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"
)

var fastRuntimeAPI = os.Getenv("ALBEDO_EXPERIMENT_RUNTIME_API") == "fasthttp"

// apiService is a Runtime API server of one environment.
type apiService interface {
	serve()
	close()
}

func newAPIService(e *env, ln net.Listener) apiService {
	if fastRuntimeAPI {
		return newFastAPIServer(e, ln)
	}
	return newAPIServer(e, ln)
}

type fastAPIServer struct {
	e   *env
	ln  net.Listener
	srv *fasthttp.Server
}

func newFastAPIServer(e *env, ln net.Listener) *fastAPIServer {
	s := &fastAPIServer{e: e, ln: ln}
	s.srv = &fasthttp.Server{
		Handler:               s.route,
		StreamRequestBody:     true, // the request id is checked before the body is read
		MaxRequestBodySize:    MaxResponseSize + 1,
		NoDefaultServerHeader: true,
		NoDefaultDate:         false,
		CloseOnShutdown:       true,
	}
	return s
}

func (s *fastAPIServer) serve() { s.srv.Serve(s.ln) }

func (s *fastAPIServer) close() {
	s.ln.Close()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		s.srv.ShutdownWithContext(ctx)
	}()
}

func (s *fastAPIServer) route(ctx *fasthttp.RequestCtx) {
	e := s.e
	path := ctx.Path()
	rest, ok := bytes.CutPrefix(path, []byte(runtimePrefix))
	if !ok {
		fastReply(ctx, http.StatusNotFound, notFoundBody)
		return
	}
	switch string(rest) {
	case "invocation/next":
		if !ctx.IsGet() {
			fastReply(ctx, http.StatusMethodNotAllowed, badMethodBody)
			return
		}
		e.fastNext(ctx)
		return
	case "init/error":
		if !ctx.IsPost() {
			fastReply(ctx, http.StatusMethodNotAllowed, badMethodBody)
			return
		}
		body, _ := io.ReadAll(io.LimitReader(ctx.RequestBodyStream(), MaxResponseSize))
		typ := string(ctx.Request.Header.Peek(hdrErrorType))
		if typ == "" {
			typ = ErrorTypeInit
		}
		if len(body) == 0 {
			body = marshalError(typ, "")
		}
		if !e.failInit(body, typ, true) {
			fastReply(ctx, http.StatusForbidden, badStateBody)
			return
		}
		fastReply(ctx, http.StatusAccepted, statusOK)
		return
	}
	if rest, ok := bytes.CutPrefix(rest, []byte("invocation/")); ok {
		if id, action, ok := bytes.Cut(rest, []byte{'/'}); ok && len(id) > 0 && (string(action) == "response" || string(action) == "error") {
			if !ctx.IsPost() {
				fastReply(ctx, http.StatusMethodNotAllowed, badMethodBody)
				return
			}
			e.fastResult(ctx, id, string(action) == "error")
			return
		}
	}
	fastReply(ctx, http.StatusNotFound, notFoundBody)
}

func fastReply(ctx *fasthttp.RequestCtx, status int, body []byte) {
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	ctx.SetBody(body)
}

// fastNext answers /next at once when an invocation is reserved, else
// blocks until handOff passes one over.
func (e *env) fastNext(ctx *fasthttp.RequestCtx) {
	e.mu.Lock()
	if e.fastParked != nil || e.parked != nil || (e.current != nil && e.current.delivered) {
		e.mu.Unlock()
		fastReply(ctx, http.StatusForbidden, badStateBody)
		return
	}
	if !e.initialized {
		e.initialized = true
		e.readyLocked()
	}
	if inv := e.current; inv != nil {
		line := e.takeLocked(inv)
		e.mu.Unlock()
		e.p.flog.writeLine(e.fn.cfg.Name, line)
		e.fastAnswer(ctx, inv)
		return
	}
	ch := make(chan *invocation, 1)
	e.fastParked = ch
	e.mu.Unlock()
	select {
	case inv := <-ch:
		e.fastAnswer(ctx, inv)
	case <-e.dead:
		ctx.SetConnectionClose()
	}
}

func (e *env) fastAnswer(ctx *fasthttp.RequestCtx, inv *invocation) {
	h := &ctx.Response.Header
	h.SetContentType("application/json")
	h.Set(hdrRequestID, inv.id)
	h.Set(hdrDeadline, strconv.FormatInt(inv.deadline.UnixMilli(), 10))
	h.Set(hdrFunctionARN, e.fn.cfg.ARN)
	h.Set(hdrTraceID, inv.traceID)
	if inv.clientContext != "" {
		h.Set(hdrClientContext, inv.clientContext)
	}
	if inv.cognito != "" {
		h.Set(hdrCognito, inv.cognito)
	}
	ctx.SetBody(inv.payload)
}

// fastHandOff is handOff's part for a /next parked in fastNext.
func (e *env) fastHandOffLocked(inv *invocation) bool {
	ch := e.fastParked
	if ch == nil {
		return false
	}
	e.fastParked = nil
	line := e.takeLocked(inv)
	e.mu.Unlock()
	e.p.flog.writeLine(e.fn.cfg.Name, line)
	ch <- inv
	return true
}

func (e *env) fastResult(ctx *fasthttp.RequestCtx, id []byte, isError bool) {
	if status, body := e.checkID(id); status != 0 {
		fastReply(ctx, status, body)
		return
	}
	body, err := io.ReadAll(io.LimitReader(ctx.RequestBodyStream(), MaxResponseSize+1))
	if err != nil {
		ctx.SetConnectionClose()
		fastReply(ctx, http.StatusBadRequest, truncatedBody)
		return
	}
	tooLarge := len(body) > MaxResponseSize
	var res result
	switch {
	case tooLarge:
		size := int64(len(body)) + int64(ctx.Request.Header.ContentLength()) // approximate; experiment only
		res = result{functionError: true, errorType: ErrorTypeResponseTooLarge,
			payload: marshalError(ErrorTypeResponseTooLarge, "Response payload size ("+strconv.FormatInt(size, 10)+
				" bytes) exceeded maximum allowed payload size ("+strconv.Itoa(MaxResponseSize)+" bytes).")}
	case isError:
		if len(body) == 0 {
			typ := string(ctx.Request.Header.Peek(hdrErrorType))
			if typ == "" {
				typ = "Unhandled"
			}
			body = marshalError(typ, "")
		}
		res = result{functionError: true, payload: body}
	default:
		res = result{payload: body}
		if typ := string(ctx.Request.Header.Peek(hdrErrorType)); typ != "" {
			eb, derr := base64.StdEncoding.DecodeString(string(ctx.Request.Header.Peek(hdrErrorBody)))
			if derr != nil || len(eb) == 0 {
				eb = marshalError(typ, "")
			}
			res = result{functionError: true, payload: eb}
		}
	}
	res.end = time.Now()
	e.mu.Lock()
	inv := e.current
	if inv == nil || inv.id != string(id) || !inv.delivered {
		e.mu.Unlock()
		fastReply(ctx, http.StatusForbidden, badStateBody)
		return
	}
	e.current = nil
	e.lastID = inv.id
	e.mu.Unlock()
	inv.done <- res
	if tooLarge {
		fastReply(ctx, http.StatusRequestEntityTooLarge, tooLargeBody)
		return
	}
	fastReply(ctx, http.StatusAccepted, statusOK)
}
