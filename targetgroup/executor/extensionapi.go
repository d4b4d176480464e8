package executor

import (
	"encoding/json"
	"net/http"
	"slices"
)

// The Extensions API (2020-01-01) of an environment: register, event/next,
// init/error and exit/error. External extensions (extensions.go) register
// with their file name; any other name is an internal extension, started
// by the runtime itself (aws-lambda-go's WithEnableSIGTERM registers one).
// Any registration makes the environment's shutdown graceful.

// handleRegister registers an extension and answers with its identifier.
func (e *env) handleRegister(ac *apiConn) {
	name := string(ac.r.Req.Get(hdrExtName))
	if name == "" {
		ac.reply(http.StatusForbidden, missingExtBody, false)
		return
	}
	var req struct {
		Events []string `json:"events"`
	}
	if ac.r.Req.ContentLength <= 64<<10 && ac.continue100() == nil {
		if b, _, tooLarge, err := ac.r.ReadBody(64 << 10); err == nil && !tooLarge {
			json.Unmarshal(b, &req)
		}
	}
	id := newRequestID()
	e.mu.Lock()
	var ext *extension
	for _, x := range e.exts {
		if x.name == name {
			ext = x
		}
	}
	if ext != nil && ext.id != "" {
		e.mu.Unlock()
		ac.reply(http.StatusForbidden, dupExtBody, false)
		return
	}
	e.extension = true
	if ext != nil {
		ext.id = id
		ext.events = slices.Clone(req.Events)
		e.extsRegistered++
		if e.extsRegistered == len(e.exts) && e.registered != nil {
			close(e.registered)
		}
	} else {
		e.internalExt = true
		e.internalExtIDs = append(e.internalExtIDs, id)
		e.extShutdown = e.extShutdown || slices.Contains(req.Events, "SHUTDOWN")
	}
	e.mu.Unlock()
	body, _ := json.Marshal(struct {
		FunctionName    string `json:"functionName"`
		FunctionVersion string `json:"functionVersion"`
		Handler         string `json:"handler"`
	}{e.fn.cfg.Name, "$LATEST", e.fn.cfg.Handler})
	ac.reply(http.StatusOK, body, false, hdrExtID, id)
}

// handleExtensionNext marks an external extension ready (its first call
// ends its part of init), then blocks: extensions only get a SHUTDOWN
// event, once, and only when they subscribed to it (INVOKE events are not
// sent). Otherwise it answers nothing until the environment is gone.
//
// An identifier that no registration returned (or none at all) is 403
// Extension.UnknownExtensionIdentifier, as on Lambda: only a registered
// extension may wait for events.
func (e *env) handleExtensionNext(ac *apiConn) {
	var ext *extension
	id := string(ac.r.Req.Get(hdrExtID))
	e.mu.Lock()
	known := false
	for _, x := range e.exts {
		if id != "" && x.id == id {
			ext, known = x, true
		}
	}
	if !known && id != "" && slices.Contains(e.internalExtIDs, id) {
		known = true // an internal extension (registered by the runtime process)
	}
	if !known {
		e.mu.Unlock()
		ac.reply(http.StatusForbidden, unknownExtBody, false)
		return
	}
	if ext != nil && !ext.ready {
		ext.ready = true
		e.extsReady++
		e.readyLocked()
	}
	e.mu.Unlock()
	select {
	case <-e.stopping:
	case <-e.dead:
		ac.r.Req.Close = true
		return
	}
	e.mu.Lock()
	sub := e.extShutdown
	if ext != nil {
		sub = slices.Contains(ext.events, "SHUTDOWN") && !ext.shutdownSent
		ext.shutdownSent = true
	}
	e.mu.Unlock()
	if !sub {
		<-e.dead
		ac.r.Req.Close = true
		return
	}
	body, _ := json.Marshal(struct {
		EventType      string `json:"eventType"`
		ShutdownReason string `json:"shutdownReason"`
		DeadlineMs     int64  `json:"deadlineMs"`
	}{"SHUTDOWN", "spindown", e.stopDeadline.Load()})
	ac.reply(http.StatusOK, body, false)
}

// handleExtensionInitError fails the init of the environment with the
// extension's error (its Lambda-Extension-Function-Error-Type, and its
// body when that is JSON), as the runtime's /init/error does.
func (e *env) handleExtensionInitError(ac *apiConn) {
	e.acceptInitError(ac, string(ac.r.Req.Get(hdrExtErrorType)), ErrorTypeExtensionInit, false)
}
