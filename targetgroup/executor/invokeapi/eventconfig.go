package invokeapi

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/albedo-lb/albedo/targetgroup/executor"
	"github.com/albedo-lb/albedo/targetgroup/executor/async"
)

// Ranges of FunctionEventInvokeConfig ("Request Body",
// https://docs.aws.amazon.com/lambda/latest/api/API_PutFunctionEventInvokeConfig.html#API_PutFunctionEventInvokeConfig_RequestBody):
// the queue's own limits, in the API's units.
const (
	maxRetryAttempts = async.MaxRetryAttempts
	minEventAge      = int(async.MinEventAge / time.Second)
	maxEventAge      = int(async.MaxEventAge / time.Second)
)

type destination struct {
	Destination *string `json:"Destination,omitempty"`
}

type destinationConfig struct {
	OnSuccess *destination `json:"OnSuccess,omitempty"`
	OnFailure *destination `json:"OnFailure,omitempty"`
}

// eventInvokeConfigInput is the Put/Update body.
type eventInvokeConfigInput struct {
	MaximumRetryAttempts     *int               `json:"MaximumRetryAttempts"`
	MaximumEventAgeInSeconds *int               `json:"MaximumEventAgeInSeconds"`
	DestinationConfig        *destinationConfig `json:"DestinationConfig"`
}

// eventInvokeConfigOutput is FunctionEventInvokeConfig. LastModified is
// epoch seconds (restJson's default timestamp format).
type eventInvokeConfigOutput struct {
	LastModified             json.Number       `json:"LastModified"`
	FunctionArn              string            `json:"FunctionArn"`
	MaximumRetryAttempts     int               `json:"MaximumRetryAttempts"`
	MaximumEventAgeInSeconds int               `json:"MaximumEventAgeInSeconds"`
	DestinationConfig        destinationConfig `json:"DestinationConfig"`
}

// eventConfigFunction resolves name for the event-invoke-config endpoints.
func (a *API) eventConfigFunction(ctx *fasthttp.RequestCtx, name string) (string, string, *apiError) {
	if a.queue == nil {
		return "", "", errService("Asynchronous invocation is not available: albedo runs without an event queue.")
	}
	fn, e := a.resolve(ctx, name)
	if e != nil {
		return "", "", e
	}
	return fn.Name, a.arnOf(fn) + ":" + latest, nil
}

// putEventInvokeConfig serves PutFunctionEventInvokeConfig (PUT: replace;
// omitted settings take the defaults) and UpdateFunctionEventInvokeConfig
// (POST, merge: omitted settings keep their current values).
func (a *API) putEventInvokeConfig(ctx *fasthttp.RequestCtx, requestID, name string, merge bool) *apiError {
	fn, arn, e := a.eventConfigFunction(ctx, name)
	if e != nil {
		return e
	}
	var in eventInvokeConfigInput
	if body := ctx.PostBody(); len(body) > 0 {
		if err := json.Unmarshal(body, &in); err != nil {
			return newError(fasthttp.StatusBadRequest, excInvalidRequestContent,
				"Could not parse request body into json: "+err.Error())
		}
	}
	if n := in.MaximumRetryAttempts; n != nil && (*n < 0 || *n > maxRetryAttempts) {
		return errValidation("Value '" + strconv.Itoa(*n) + "' at 'maximumRetryAttempts' failed to satisfy constraint: " +
			"Member must have value between 0 and " + strconv.Itoa(maxRetryAttempts))
	}
	if n := in.MaximumEventAgeInSeconds; n != nil && (*n < minEventAge || *n > maxEventAge) {
		return errValidation("Value '" + strconv.Itoa(*n) + "' at 'maximumEventAgeInSeconds' failed to satisfy constraint: " +
			"Member must have value between " + strconv.Itoa(minEventAge) + " and " + strconv.Itoa(maxEventAge))
	}
	c := async.DefaultConfig()
	if merge {
		if cur, ok := a.queue.GetConfig(fn); ok {
			c = cur
		}
	}
	if n := in.MaximumRetryAttempts; n != nil {
		c.MaximumRetryAttempts = *n
	}
	if n := in.MaximumEventAgeInSeconds; n != nil {
		c.MaximumEventAge = time.Duration(*n) * time.Second
	}
	if d := in.DestinationConfig; d != nil {
		if d.OnSuccess != nil || !merge {
			c.OnSuccess = destinationOf(d.OnSuccess)
		}
		if d.OnFailure != nil || !merge {
			c.OnFailure = destinationOf(d.OnFailure)
		}
	} else if !merge {
		c.OnSuccess, c.OnFailure = "", ""
	}
	c.LastModified = a.now()
	saved, err := a.queue.PutConfig(fn, c)
	if err != nil {
		return queueConfigError(arn, err)
	}
	return a.respondJSON(ctx, requestID, fasthttp.StatusOK, a.eventConfigOutput(arn, saved))
}

func destinationOf(d *destination) string {
	if d == nil || d.Destination == nil {
		return ""
	}
	return *d.Destination
}

// getEventInvokeConfig serves GetFunctionEventInvokeConfig; 404 when none
// is set.
func (a *API) getEventInvokeConfig(ctx *fasthttp.RequestCtx, requestID, name string) *apiError {
	fn, arn, e := a.eventConfigFunction(ctx, name)
	if e != nil {
		return e
	}
	c, ok := a.queue.GetConfig(fn)
	if !ok {
		return errNotFound("The function " + arn + " doesn't have an EventInvokeConfig")
	}
	return a.respondJSON(ctx, requestID, fasthttp.StatusOK, a.eventConfigOutput(arn, c))
}

// listEventInvokeConfigs serves ListFunctionEventInvokeConfigs: the one
// configuration of the function ($LATEST), or none.
func (a *API) listEventInvokeConfigs(ctx *fasthttp.RequestCtx, requestID, name string) *apiError {
	fn, arn, e := a.eventConfigFunction(ctx, name)
	if e != nil {
		return e
	}
	out := struct {
		FunctionEventInvokeConfigs []eventInvokeConfigOutput `json:"FunctionEventInvokeConfigs"`
		NextMarker                 *string                   `json:"NextMarker"`
	}{FunctionEventInvokeConfigs: []eventInvokeConfigOutput{}}
	if c, ok := a.queue.GetConfig(fn); ok {
		out.FunctionEventInvokeConfigs = append(out.FunctionEventInvokeConfigs, a.eventConfigOutput(arn, c))
	}
	return a.respondJSON(ctx, requestID, fasthttp.StatusOK, out)
}

// deleteEventInvokeConfig serves DeleteFunctionEventInvokeConfig: 204, or
// 404 when none is set.
func (a *API) deleteEventInvokeConfig(ctx *fasthttp.RequestCtx, requestID, name string) *apiError {
	fn, arn, e := a.eventConfigFunction(ctx, name)
	if e != nil {
		return e
	}
	if _, ok := a.queue.GetConfig(fn); !ok {
		return errNotFound("The function " + arn + " doesn't have an EventInvokeConfig")
	}
	if err := a.queue.DeleteConfig(fn); err != nil {
		return queueConfigError(arn, err)
	}
	writeEmpty(ctx, fasthttp.StatusNoContent, requestID)
	return nil
}

func (a *API) eventConfigOutput(arn string, c async.Config) eventInvokeConfigOutput {
	lm := c.LastModified
	if lm.IsZero() {
		lm = a.started
	}
	out := eventInvokeConfigOutput{
		LastModified:             json.Number(strconv.FormatFloat(float64(lm.UnixMilli())/1000, 'f', -1, 64)),
		FunctionArn:              arn,
		MaximumRetryAttempts:     c.MaximumRetryAttempts,
		MaximumEventAgeInSeconds: int(c.MaximumEventAge / time.Second),
	}
	if c.OnSuccess != "" {
		d := c.OnSuccess
		out.DestinationConfig.OnSuccess = &destination{Destination: &d}
	} else {
		out.DestinationConfig.OnSuccess = &destination{}
	}
	if c.OnFailure != "" {
		d := c.OnFailure
		out.DestinationConfig.OnFailure = &destination{Destination: &d}
	} else {
		out.DestinationConfig.OnFailure = &destination{}
	}
	return out
}

// queueConfigError maps a Queue config error: async.ErrInvalidConfig is
// 400 InvalidParameterValueException, async.ErrNoConfig and an unknown
// function 404, anything else 500.
func queueConfigError(arn string, err error) *apiError {
	switch {
	case errors.Is(err, async.ErrInvalidConfig):
		return errInvalidParameter("The event invoke configuration is not valid: " + err.Error())
	case errors.Is(err, async.ErrNoConfig):
		return errNotFound("The function " + arn + " doesn't have an EventInvokeConfig")
	case errors.Is(err, executor.ErrFunctionNotFound):
		return errNotFound("Function not found: " + strings.TrimSuffix(arn, ":"+latest))
	}
	return errService("The event invoke configuration could not be changed: " + err.Error())
}
