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

// routed says what route did with a request.
type routed int

const (
	answeredRequest routed = iota // answered (any request but these two)
	parkedNext                    // a /next left waiting for an invocation
	tookResult                    // the result of the invocation in flight, accepted
)

// route answers one request of the Runtime API or the minimal Extensions
// API. Client mistakes get 4xx with Lambda's JSON error body; nothing here
// answers 5xx.
func (e *env) route(ac *apiConn) routed {
	path := ac.r.Req.Path
	if rest, ok := bytes.CutPrefix(path, []byte(runtimePrefix)); ok {
		switch string(rest) {
		case "invocation/next":
			if ac.allow(http.MethodGet) && e.handleNext(ac) {
				return parkedNext
			}
			return answeredRequest
		case "init/error":
			if ac.allow(http.MethodPost) {
				e.handleInitError(ac)
			}
			return answeredRequest
		}
		if rest, ok := bytes.CutPrefix(rest, []byte("invocation/")); ok {
			if id, action, ok := bytes.Cut(rest, []byte{'/'}); ok && len(id) > 0 && (string(action) == "response" || string(action) == "error") {
				if ac.allow(http.MethodPost) && e.handleResult(ac, id, string(action) == "error") {
					return tookResult
				}
				return answeredRequest
			}
		}
	} else if rest, ok := bytes.CutPrefix(path, []byte(extensionPrefix)); ok {
		switch string(rest) {
		case "register":
			if ac.allow(http.MethodPost) {
				e.handleRegister(ac)
			}
		case "event/next":
			if ac.allow(http.MethodGet) {
				e.handleExtensionNext(ac)
			}
		case "init/error":
			if ac.allow(http.MethodPost) {
				e.handleExtensionInitError(ac)
			}
		case "exit/error":
			if ac.allow(http.MethodPost) {
				if ac.continue100() == nil {
					ac.r.DiscardBody(64 << 10)
				}
				ac.reply(http.StatusAccepted, statusOK, false)
			}
		default:
			ac.reply(http.StatusNotFound, notFoundBody, false)
		}
		return answeredRequest
	}
	ac.reply(http.StatusNotFound, notFoundBody, false)
	return answeredRequest
}

// mayBlock reports whether the request just read waits for an event of
// the environment (an extension's event/next), which only a connection's
// own goroutine may do.
func (ac *apiConn) mayBlock() bool {
	rest, ok := bytes.CutPrefix(ac.r.Req.Path, []byte(extensionPrefix))
	return ok && string(rest) == "event/next"
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
// environment's init phase. A runtime asking on a new connection while
// its last one is dormant has left that one: it gets a goroutine again,
// which sees it end.
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
		e.takeLocked(inv)
		e.interruptLocked(ac) // an invoker waiting for /next on another connection
		e.mu.Unlock()
		e.sendNext(ac, inv)
		return false
	}
	e.parked = ac
	left := e.dormant
	if left == ac {
		left = nil
	}
	if left != nil {
		e.dormant = nil
		e.serveLocked(left)
	}
	e.mu.Unlock()
	return true
}

// takeLocked marks inv delivered (its START line goes into its tail).
// e.mu is held.
func (e *env) takeLocked(inv *invocation) {
	inv.delivered = true
	e.logInv = inv
	if inv.wantTail {
		inv.tail = append(appendStart(inv.tail, inv.id), '\n')
	}
}

// sendNext logs START and answers the /next of ac with inv.
func (e *env) sendNext(ac *apiConn, inv *invocation) {
	var buf [96]byte
	e.p.flog.writeLine(e.fn.cfg.Name, appendStart(buf[:0], inv.id))
	ac.writeNext(inv, e.fn.cfg.ARN)
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

// handleResult accepts /response and /error for the invocation in flight
// and reports whether it did. The request id is checked before the body
// is read: a wrong id is 400, an id already answered 403.
func (e *env) handleResult(ac *apiConn, id []byte, isError bool) bool {
	if status, body := e.checkID(id); status != 0 {
		ac.reply(status, body, false)
		return false
	}
	if !(ac.r.Req.ContentLength > MaxResponseSize) {
		if err := ac.continue100(); err != nil {
			return false
		}
	}
	body, size, tooLarge, err := ac.r.ReadBody(MaxResponseSize)
	if err != nil {
		ac.reply(http.StatusBadRequest, truncatedBody, true)
		return false
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
		return false
	}
	e.current = nil
	e.lastID = inv.id
	inv.done <- res
	e.interruptLocked(ac) // an invoker reading another connection for it
	e.mu.Unlock()
	if tooLarge {
		ac.reply(http.StatusRequestEntityTooLarge, tooLargeBody, false)
		return true
	}
	if ac.r.Buffered() > 0 && !ac.r.Req.Close && ac.r.Req.BodyDone {
		// The runtime pipelined its next request (albedo's clients send
		// GET /next with the result): the 202 goes out with the answer
		// to that request, one write and one wake-up of the runtime for
		// both. Nothing waits for it before then.
		ac.holdReply(http.StatusAccepted, statusOK)
		return true
	}
	ac.reply(http.StatusAccepted, statusOK, false)
	return true
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
