package invokeapi

import (
	"encoding/json"
	"runtime"
	"sort"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/albedo-lb/albedo/targetgroup/executor"
)

// functionConfiguration is the FunctionConfiguration shape SDKs read.
type functionConfiguration struct {
	FunctionName     string       `json:"FunctionName"`
	FunctionArn      string       `json:"FunctionArn"`
	Runtime          string       `json:"Runtime"`
	Handler          string       `json:"Handler"`
	CodeSize         int64        `json:"CodeSize"`
	Description      string       `json:"Description"`
	Timeout          int          `json:"Timeout"`
	MemorySize       int          `json:"MemorySize"`
	LastModified     string       `json:"LastModified"`
	CodeSha256       string       `json:"CodeSha256"`
	Version          string       `json:"Version"`
	Environment      *environment `json:"Environment,omitempty"`
	State            string       `json:"State"`
	LastUpdateStatus string       `json:"LastUpdateStatus"`
	PackageType      string       `json:"PackageType"`
	Architectures    []string     `json:"Architectures"`
}

type environment struct {
	Variables map[string]string `json:"Variables"`
}

// lastModifiedLayout is Lambda's FunctionConfiguration.LastModified format.
const lastModifiedLayout = "2006-01-02T15:04:05.000-0700"

func (a *API) configuration(fn executor.Function) functionConfiguration {
	c := functionConfiguration{
		FunctionName:     fn.Name,
		FunctionArn:      a.arnOf(fn),
		Runtime:          fn.Runtime,
		Handler:          fn.Handler,
		Timeout:          int((fn.Timeout + time.Second - 1) / time.Second),
		MemorySize:       fn.MemorySize,
		LastModified:     a.started.UTC().Format(lastModifiedLayout),
		Version:          latest,
		State:            "Active",
		LastUpdateStatus: "Successful",
		PackageType:      "Zip",
		Architectures:    []string{architecture()},
	}
	if len(fn.Environment) > 0 {
		c.Environment = &environment{Variables: fn.Environment}
	}
	return c
}

// architecture is Lambda's name for the machine the functions run on.
func architecture() string {
	if runtime.GOARCH == "arm64" {
		return "arm64"
	}
	return "x86_64"
}

// listFunctions serves GET /2015-03-31/functions/ with Marker/MaxItems
// paging. The marker is the name of the last function of the previous page.
func (a *API) listFunctions(ctx *fasthttp.RequestCtx, requestID string) *apiError {
	q := ctx.QueryArgs()
	maxItems := defaultListFunctionsItems
	if v := q.Peek("MaxItems"); len(v) > 0 {
		n, err := strconv.Atoi(string(v))
		if err != nil || n < 1 || n > maxListFunctionsItems {
			return errValidation("Value '" + string(v) + "' at 'maxItems' failed to satisfy constraint: " +
				"Member must have value between 1 and 10000")
		}
		maxItems = n
	}
	fns := a.inv.Functions()
	start := 0
	if marker := string(q.Peek("Marker")); marker != "" {
		start = sort.Search(len(fns), func(i int) bool { return fns[i].Name > marker })
	}
	out := struct {
		Functions  []functionConfiguration `json:"Functions"`
		NextMarker *string                 `json:"NextMarker"`
	}{Functions: []functionConfiguration{}}
	for i := start; i < len(fns) && len(out.Functions) < maxItems; i++ {
		out.Functions = append(out.Functions, a.configuration(fns[i]))
	}
	if n := start + len(out.Functions); n < len(fns) {
		m := fns[n-1].Name
		out.NextMarker = &m
	}
	return a.respondJSON(ctx, requestID, fasthttp.StatusOK, out)
}

// getFunction serves GetFunction and, with configOnly, GetFunctionConfiguration.
func (a *API) getFunction(ctx *fasthttp.RequestCtx, requestID, name string, configOnly bool) *apiError {
	fn, e := a.resolve(ctx, name)
	if e != nil {
		return e
	}
	c := a.configuration(fn)
	if configOnly {
		return a.respondJSON(ctx, requestID, fasthttp.StatusOK, c)
	}
	type concurrency struct {
		ReservedConcurrentExecutions int `json:"ReservedConcurrentExecutions"`
	}
	type code struct {
		RepositoryType string `json:"RepositoryType"`
		Location       string `json:"Location"`
	}
	out := struct {
		Configuration functionConfiguration `json:"Configuration"`
		Code          *code                 `json:"Code,omitempty"`
		Concurrency   *concurrency          `json:"Concurrency,omitempty"`
	}{Configuration: c}
	if fn.Code != "" {
		out.Code = &code{RepositoryType: "Local", Location: "file://" + fn.Code}
	}
	if fn.Reserved >= 0 {
		out.Concurrency = &concurrency{ReservedConcurrentExecutions: fn.Reserved}
	}
	return a.respondJSON(ctx, requestID, fasthttp.StatusOK, out)
}

// respondJSON marshals v as the success body.
func (a *API) respondJSON(ctx *fasthttp.RequestCtx, requestID string, status int, v any) *apiError {
	b, err := json.Marshal(v)
	if err != nil {
		return errService("encoding the response: " + err.Error())
	}
	writeJSON(ctx, status, requestID, b)
	return nil
}
