package balancer

import (
	"errors"
	"fmt"
	"time"

	"github.com/albedo-lb/albedo/config"
)

// ErrInvalidAction reports a rule action that cannot be compiled.
var ErrInvalidAction = errors.New("balancer: invalid action")

// ErrUnknownTargetGroup reports a forward action naming a target group that
// is not in the groups map given to New.
var ErrUnknownTargetGroup = errors.New("balancer: unknown target group")

// functionNamer is implemented by Forwarders that know their target
// function (targetgroup.Group); the name goes into failure logs.
type functionNamer interface{ Function() string }

type actionKind uint8

const (
	actForward actionKind = iota + 1
	actRedirect
	actFixed
)

// action is one compiled rule action.
type action struct {
	kind     actionKind
	forward  *forwardAction
	redirect *redirectAction
	fixed    *fixedAction
}

// fixedAction answers without a target.
type fixedAction struct {
	status      int
	contentType string
	body        []byte
}

// compileAction compiles a config action. id names the action uniquely
// within the balancer ("listener port/rule priority"); it binds stickiness
// cookies to the action that issued them.
func compileAction(a *config.Action, id string, groups map[string]Forwarder, arns map[string]string) (action, error) {
	if a == nil {
		return action{}, fmt.Errorf("%w: missing", ErrInvalidAction)
	}
	n := 0
	var out action
	if a.Forward != nil {
		n++
		f, err := compileForward(a.Forward, id, groups, arns)
		if err != nil {
			return action{}, err
		}
		out = action{kind: actForward, forward: f}
	}
	if a.Redirect != nil {
		n++
		r, err := compileRedirect(a.Redirect)
		if err != nil {
			return action{}, err
		}
		out = action{kind: actRedirect, redirect: r}
	}
	if a.FixedResponse != nil {
		n++
		fr := a.FixedResponse
		if fr.StatusCode < 200 || fr.StatusCode > 599 {
			return action{}, fmt.Errorf("%w: fixed_response status_code %d", ErrInvalidAction, fr.StatusCode)
		}
		out = action{kind: actFixed, fixed: &fixedAction{
			status:      fr.StatusCode,
			contentType: fixedContentType(fr.ContentType),
			body:        []byte(fr.MessageBody),
		}}
	}
	if n != 1 {
		return action{}, fmt.Errorf("%w: exactly one of forward, redirect, fixed_response must be set, got %d", ErrInvalidAction, n)
	}
	return out, nil
}

// fixedContentType is the Content-Type of a fixed response. ALB's fixed
// responses carry "; charset=utf-8" after the configured type, and
// text/plain when none is configured (both UNCONFIRMED, see doc.go).
func fixedContentType(ct string) string {
	if ct == "" {
		ct = "text/plain"
	}
	return ct + "; charset=utf-8"
}

// compileForward compiles a forward action, single or weighted.
// arns maps group names to ARNs for the access log (missing = unknown).
func compileForward(f *config.Forward, id string, groups map[string]Forwarder, arns map[string]string) (*forwardAction, error) {
	entries := f.TargetGroups
	if len(entries) == 0 && f.TargetGroup != "" {
		// Not normalised by config.Load (an in-memory config): one group.
		entries = []config.WeightedGroup{{Name: f.TargetGroup}}
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("%w: forward without target groups", ErrInvalidAction)
	}
	fa := &forwardAction{id: id}
	for _, e := range entries {
		fwd, ok := groups[e.Name]
		if !ok || fwd == nil {
			return nil, fmt.Errorf("%w: %q", ErrUnknownTargetGroup, e.Name)
		}
		w := 1
		if e.Weight != nil {
			w = *e.Weight
		}
		if w < 0 || w > 999 {
			return nil, fmt.Errorf("%w: target group %q weight %d not in 0-999", ErrInvalidAction, e.Name, w)
		}
		fa.total += w
		var function string
		if f, ok := fwd.(functionNamer); ok {
			function = f.Function()
		}
		fa.groups = append(fa.groups, weightedTarget{name: e.Name, arn: arns[e.Name], function: function, fwd: fwd, weight: w, upTo: fa.total})
	}
	if s := f.Stickiness; s != nil && s.Enabled {
		d := s.Duration
		if d <= 0 {
			d = 3600
		}
		fa.sticky = true
		fa.duration = time.Duration(d) * time.Second
	}
	return fa, nil
}
