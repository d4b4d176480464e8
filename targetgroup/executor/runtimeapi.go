package executor

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/albedo-lb/albedo/targetgroup/executor/httpwire"
)

// Runtime API paths (version 2018-06-01) and the Extensions API subset.
const (
	runtimePrefix   = "/2018-06-01/runtime/"
	extensionPrefix = "/2020-01-01/extension/"

	hdrRequestID     = "Lambda-Runtime-Aws-Request-Id"
	hdrDeadline      = "Lambda-Runtime-Deadline-Ms"
	hdrFunctionARN   = "Lambda-Runtime-Invoked-Function-Arn"
	hdrTraceID       = "Lambda-Runtime-Trace-Id"
	hdrClientContext = "Lambda-Runtime-Client-Context"
	hdrCognito       = "Lambda-Runtime-Cognito-Identity"
	hdrErrorType     = "Lambda-Runtime-Function-Error-Type"
	hdrErrorBody     = "Lambda-Runtime-Function-Error-Body"
	hdrExtName       = "Lambda-Extension-Name"
	hdrExtID         = "Lambda-Extension-Identifier"
	hdrExtErrorType  = "Lambda-Extension-Function-Error-Type"
)

var (
	statusOK       = []byte(`{"status":"OK"}`)
	tooLargeBody   = marshalError("RequestEntityTooLarge", "Exceeded maximum allowed payload size ("+strconv.Itoa(MaxResponseSize)+" bytes).")
	badIDBody      = marshalError("InvalidRequestID", "Invalid request ID")
	badStateBody   = marshalError("InvalidStateTransition", "State transition is not allowed")
	notFoundBody   = marshalError("NotFound", "Unknown Runtime API path")
	badMethodBody  = marshalError("MethodNotAllowed", "Method not allowed")
	missingExtBody = marshalError("Extension.MissingName", "Missing Lambda-Extension-Name header")
	dupExtBody     = marshalError("Extension.AlreadyRegistered", "Extension already registered")
	unknownExtBody = marshalError("Extension.UnknownExtensionIdentifier", "Unknown Lambda-Extension-Identifier")
	truncatedBody  = marshalError("TruncatedHTTPRequest", "Could not read the request body")
	badRequestBody = marshalError("InvalidRequest", "Malformed HTTP request")
)

// route answers one request of the Runtime API or the minimal Extensions
// API. Client mistakes get 4xx with Lambda's JSON error body; nothing here
// answers 5xx. parked reports a /next left waiting for an invocation.
func (e *env) route(ac *apiConn) (parked bool) {
	path := ac.r.Req.Path
	if rest, ok := bytes.CutPrefix(path, []byte(runtimePrefix)); ok {
		switch string(rest) {
		case "invocation/next":
			if ac.allow(http.MethodGet) {
				return e.handleNext(ac)
			}
			return false
		case "init/error":
			if ac.allow(http.MethodPost) {
				e.handleInitError(ac)
			}
			return false
		}
		if rest, ok := bytes.CutPrefix(rest, []byte("invocation/")); ok {
			if id, action, ok := bytes.Cut(rest, []byte{'/'}); ok && len(id) > 0 && (string(action) == "response" || string(action) == "error") {
				if ac.allow(http.MethodPost) {
					e.handleResult(ac, id, string(action) == "error")
				}
				return false
			}
		}
	} else if rest, ok := bytes.CutPrefix(path, []byte(extensionPrefix)); ok {
		switch string(rest) {
		case "register":
			if ac.allow(http.MethodPost) {
				e.handleRegister(ac)
			}
			return false
		case "event/next":
			if ac.allow(http.MethodGet) {
				e.handleExtensionNext(ac)
			}
			return false
		case "init/error":
			if ac.allow(http.MethodPost) {
				e.handleExtensionInitError(ac)
			}
			return false
		case "exit/error":
			if ac.allow(http.MethodPost) {
				if ac.continue100() == nil {
					ac.r.DiscardBody(64 << 10)
				}
				ac.reply(http.StatusAccepted, statusOK, false)
			}
			return false
		}
	}
	ac.reply(http.StatusNotFound, notFoundBody, false)
	return false
}

func (ac *apiConn) allow(method string) bool {
	if string(ac.r.Req.Method) == method {
		return true
	}
	ac.reply(http.StatusMethodNotAllowed, badMethodBody, false, "Allow", method)
	return false
}

// handleNext hands the reserved invocation over at once, or parks the
// connection until Pool.deliver does. The first call ends the
// environment's init phase.
func (e *env) handleNext(ac *apiConn) (parked bool) {
	if !ac.r.DiscardBody(256 << 10) { // a parked connection must be at a request boundary
		ac.reply(http.StatusBadRequest, badRequestBody, true)
		return false
	}
	e.mu.Lock()
	if e.parked != nil || (e.current != nil && e.current.delivered) {
		e.mu.Unlock()
		ac.reply(http.StatusForbidden, badStateBody, false)
		return false
	}
	if !e.initialized {
		e.initialized = true
		e.readyLocked()
	}
	ac.nextClose = ac.r.Req.Close
	if inv := e.current; inv != nil {
		line, closeAfter := e.takeLocked(inv), ac.nextClose
		e.mu.Unlock()
		e.sendNext(ac, inv, line, closeAfter)
		return false
	}
	e.parked = ac
	e.mu.Unlock()
	return true
}

// handOff reserves e for inv and, when a /next is parked, delivers inv on
// the calling goroutine. It reports whether inv was delivered.
func (e *env) handOff(inv *invocation) bool {
	e.mu.Lock()
	e.current = inv
	ac := e.parked
	if ac == nil {
		e.mu.Unlock()
		return false
	}
	e.parked = nil
	line, closeAfter := e.takeLocked(inv), ac.nextClose
	e.mu.Unlock()
	e.sendNext(ac, inv, line, closeAfter)
	return true
}

// takeLocked marks inv delivered and returns its START line. e.mu is held.
func (e *env) takeLocked(inv *invocation) []byte {
	inv.delivered = true
	e.logInv = inv
	line := appendStart(make([]byte, 0, 64), inv.id)
	if inv.wantTail {
		inv.tail = append(append(inv.tail, line...), '\n')
	}
	return line
}

// sendNext logs START and answers the /next of ac with inv.
func (e *env) sendNext(ac *apiConn, inv *invocation, start []byte, closeAfter bool) {
	e.p.flog.writeLine(e.fn.cfg.Name, start)
	ac.writeNext(inv, e.fn.cfg.ARN, closeAfter)
}

// unpark forgets ac's parked /next; it reports whether there was one.
func (e *env) unpark(ac *apiConn) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.parked != ac {
		return false
	}
	e.parked = nil
	return true
}

// handleResult accepts /response and /error for the invocation in flight.
// The request id is checked before the body is read: a wrong id is 400,
// an id already answered 403.
func (e *env) handleResult(ac *apiConn, id []byte, isError bool) {
	if status, body := e.checkID(id); status != 0 {
		ac.reply(status, body, false)
		return
	}
	if !(ac.r.Req.ContentLength > MaxResponseSize) {
		if err := ac.continue100(); err != nil {
			return
		}
	}
	body, size, tooLarge, err := ac.r.ReadBody(MaxResponseSize)
	if err != nil {
		ac.reply(http.StatusBadRequest, truncatedBody, true)
		return
	}
	var res result
	switch {
	case tooLarge:
		res = result{
			functionError: true,
			errorType:     ErrorTypeResponseTooLarge,
			payload: marshalError(ErrorTypeResponseTooLarge, "Response payload size ("+strconv.FormatInt(size, 10)+
				" bytes) exceeded maximum allowed payload size ("+strconv.Itoa(MaxResponseSize)+" bytes)."),
		}
	case isError:
		if len(body) == 0 {
			typ := string(ac.r.Req.Get(hdrErrorType))
			if typ == "" {
				typ = "Unhandled"
			}
			body = marshalError(typ, "")
		}
		res = result{functionError: true, payload: body}
	default:
		res = result{payload: body}
		// A buffered response that failed midway carries its error in the
		// trailers (aws-lambda-go declares them on every response).
		if typ := ac.r.Req.GetTrailer(hdrErrorType); len(typ) > 0 {
			eb, derr := base64.StdEncoding.AppendDecode(nil, ac.r.Req.GetTrailer(hdrErrorBody))
			if derr != nil || len(eb) == 0 {
				eb = marshalError(string(typ), "")
			}
			res = result{functionError: true, payload: eb}
		}
	}
	res.end = time.Now()
	if tooLarge && !ac.r.Req.Expect {
		// Read the rest so that the 413 is not lost to a reset.
		ac.r.DiscardBody(httpwire.MaxBodyDrain)
	}

	e.mu.Lock()
	inv := e.current
	if inv == nil || inv.id != string(id) || !inv.delivered {
		e.mu.Unlock()
		// The invocation timed out (or the environment was stopped) while
		// the body was read.
		ac.reply(http.StatusForbidden, badStateBody, false)
		return
	}
	e.current = nil
	e.lastID = inv.id
	e.mu.Unlock()
	if tooLarge {
		// Lambda's REPORT line says nothing of it; albedo's log does (before
		// the invoker has the result), as the invocation fails with the
		// function healthy.
		e.log.Warn("function response over the 6 MB payload limit: the invocation fails with "+ErrorTypeResponseTooLarge,
			"request_id", inv.id, "bytes", size, "limit_bytes", MaxResponseSize)
	}
	inv.done <- res
	if tooLarge {
		ac.reply(http.StatusRequestEntityTooLarge, tooLargeBody, false)
		return
	}
	if ac.r.Buffered() > 0 && !ac.r.Req.Close && ac.r.Req.BodyDone {
		// The runtime pipelined its next request (albedo's clients send
		// GET /next with the result): the 202 goes out with the answer
		// to that request, one write and one wake-up of the runtime for
		// both. Nothing waits for it before then.
		ac.holdReply(http.StatusAccepted, statusOK)
		return
	}
	ac.reply(http.StatusAccepted, statusOK, false)
}

// checkID validates a request id against the invocation in flight.
func (e *env) checkID(id []byte) (int, []byte) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if inv := e.current; inv != nil && inv.delivered && inv.id == string(id) {
		return 0, nil
	}
	if string(id) == e.lastID {
		return http.StatusForbidden, badStateBody
	}
	return http.StatusBadRequest, badIDBody
}

// handleInitError records a fatal init error; it is served as the result
// of the invocation waiting for this environment.
func (e *env) handleInitError(ac *apiConn) {
	e.mu.Lock()
	done := e.initialized || e.initErr != nil
	e.mu.Unlock()
	if done {
		ac.reply(http.StatusForbidden, badStateBody, false)
		return
	}
	e.acceptInitError(ac, string(ac.r.Req.Get(hdrErrorType)), ErrorTypeInit, true)
}

// acceptInitError reads an init/error body (the runtime's, or an
// extension's) and fails init with it: its errorType when the body has
// one (for the runtime), else typ, else fallback; a body that is not JSON
// becomes the errorMessage.
func (e *env) acceptInitError(ac *apiConn, typ, fallback string, runtime bool) {
	if ac.r.Req.ContentLength <= MaxResponseSize {
		if err := ac.continue100(); err != nil {
			return
		}
	}
	body, _, tooLarge, err := ac.r.ReadBody(MaxResponseSize)
	if err != nil {
		ac.reply(http.StatusBadRequest, truncatedBody, true)
		return
	}
	if tooLarge {
		ac.reply(http.StatusRequestEntityTooLarge, tooLargeBody, false)
		return
	}
	if t := errorTypeOf(body); t != "" && runtime {
		typ = t
	}
	if typ == "" {
		typ = fallback
	}
	if len(body) == 0 || !json.Valid(body) {
		body = marshalError(typ, string(body))
	}
	if !e.failInit(body, typ, runtime) {
		ac.reply(http.StatusForbidden, badStateBody, false)
		return
	}
	ac.reply(http.StatusAccepted, statusOK, false)
}

// failInit records a fatal init error (the runtime's or an extension's);
// it is served as the result of the invocation waiting for this
// environment. false: init failed already, or its part of init is over
// (the runtime called /next; for an extension, init ended).
func (e *env) failInit(body []byte, typ string, runtime bool) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.initErr != nil || e.initDone || (runtime && e.initialized) {
		return false
	}
	e.initErr, e.initErrType = body, typ
	close(e.initFailed)
	return true
}

// readyLocked ends init once the runtime and every external extension
// called next. e.mu is held.
func (e *env) readyLocked() {
	if e.initDone || !e.initialized || e.extsReady < len(e.exts) {
		return
	}
	e.initDone = true
	e.initDuration = time.Since(e.start)
	close(e.ready)
	e.log.Debug("environment initialized", "pid", e.processID(), "init_ms", e.initDuration.Milliseconds())
}
