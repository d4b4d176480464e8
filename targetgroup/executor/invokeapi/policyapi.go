package invokeapi

import (
	"encoding/json"
	"errors"
	"strconv"

	"github.com/valyala/fasthttp"

	"github.com/albedo-lb/albedo/config"
	"github.com/albedo-lb/albedo/targetgroup/executor/policy"
)

// addPermissionInput is AddPermission's body.
type addPermissionInput struct {
	StatementID           string  `json:"StatementId"`
	Action                string  `json:"Action"`
	Principal             string  `json:"Principal"`
	SourceArn             string  `json:"SourceArn"`
	SourceAccount         string  `json:"SourceAccount"`
	RevisionID            string  `json:"RevisionId"`
	EventSourceToken      string  `json:"EventSourceToken"`
	PrincipalOrgID        string  `json:"PrincipalOrgID"`
	FunctionURLAuthType   string  `json:"FunctionUrlAuthType"`
	InvokedViaFunctionURL *bool   `json:"InvokedViaFunctionUrl"`
	Qualifier             *string `json:"Qualifier"`
}

// policyFunction resolves name for the policy endpoints.
func (a *API) policyFunction(ctx *fasthttp.RequestCtx, name string) (string, *apiError) {
	if a.policies == nil {
		return "", errService("The policy API is not available: albedo runs without a policy store.")
	}
	fn, e := a.resolve(ctx, name)
	if e != nil {
		return "", e
	}
	return fn.Name, nil
}

// addPermission serves AddPermission: 201 {"Statement":"<json>"}.
func (a *API) addPermission(ctx *fasthttp.RequestCtx, requestID, name string) *apiError {
	fn, e := a.policyFunction(ctx, name)
	if e != nil {
		return e
	}
	var in addPermissionInput
	if err := json.Unmarshal(ctx.PostBody(), &in); err != nil {
		return newError(fasthttp.StatusBadRequest, excInvalidRequestContent,
			"Could not parse request body into json: "+err.Error())
	}
	if e := validateAddPermission(&in); e != nil {
		return e
	}
	st := config.Statement{
		Sid:           in.StatementID,
		Principal:     in.Principal,
		Action:        in.Action,
		SourceARN:     in.SourceArn,
		SourceAccount: in.SourceAccount,
	}
	if _, err := a.policies.Add(fn, st, in.RevisionID); err != nil {
		return a.policyError(fn, err)
	}
	body, _ := json.Marshal(struct {
		Statement string `json:"Statement"`
	}{string(policy.StatementJSON(a.policies.ARN(fn), st))})
	writeJSON(ctx, fasthttp.StatusCreated, requestID, body)
	return nil
}

func validateAddPermission(in *addPermissionInput) *apiError {
	switch {
	case in.StatementID == "":
		return errValidation("Value null at 'statementId' failed to satisfy constraint: Member must not be null")
	case len(in.StatementID) > maxStatementIDLen || !isStatementID(in.StatementID):
		return errValidation("Value '" + in.StatementID + "' at 'statementId' failed to satisfy constraint: " +
			"Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)")
	case in.Action == "":
		return errValidation("Value null at 'action' failed to satisfy constraint: Member must not be null")
	case !isPermissionAction(in.Action):
		return errValidation("Value '" + in.Action + "' at 'action' failed to satisfy constraint: " +
			"Member must satisfy regular expression pattern: (lambda:[*]|lambda:[a-zA-Z]+|[*])")
	case in.Principal == "" || containsSpace(in.Principal):
		return errValidation("Value '" + in.Principal + "' at 'principal' failed to satisfy constraint: " +
			"Member must satisfy regular expression pattern: [^\\s]+")
	case in.SourceAccount != "" && !policy.IsAccountID(in.SourceAccount):
		return errValidation("Value '" + in.SourceAccount + "' at 'sourceAccount' failed to satisfy constraint: " +
			"Member must satisfy regular expression pattern: \\d{12}")
	case in.EventSourceToken != "" || in.PrincipalOrgID != "" || in.FunctionURLAuthType != "" || in.InvokedViaFunctionURL != nil:
		return errInvalidParameter("albedo supports only StatementId, Action, Principal, SourceArn, SourceAccount " +
			"and RevisionId in AddPermission.")
	}
	return nil
}

func isStatementID(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return s != ""
}

// isPermissionAction matches (lambda:[*]|lambda:[a-zA-Z]+|[*]).
func isPermissionAction(s string) bool {
	if s == "*" || s == "lambda:*" {
		return true
	}
	if len(s) <= len("lambda:") || s[:len("lambda:")] != "lambda:" {
		return false
	}
	for i := len("lambda:"); i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

func containsSpace(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\n', '\r', '\f', '\v':
			return true
		}
	}
	return false
}

// getPolicy serves GetPolicy: 200 {"Policy":"<document>","RevisionId":…},
// 404 when the policy is empty.
func (a *API) getPolicy(ctx *fasthttp.RequestCtx, requestID, name string) *apiError {
	fn, e := a.policyFunction(ctx, name)
	if e != nil {
		return e
	}
	stmts, rev, err := a.policies.Get(fn)
	if err != nil {
		return a.policyError(fn, err)
	}
	if len(stmts) == 0 {
		return a.policyError(fn, ErrNoPolicy)
	}
	body, _ := json.Marshal(struct {
		Policy     string `json:"Policy"`
		RevisionID string `json:"RevisionId"`
	}{string(policy.Document(a.policies.ARN(fn), stmts)), rev})
	writeJSON(ctx, fasthttp.StatusOK, requestID, body)
	return nil
}

// removePermission serves RemovePermission: 204.
func (a *API) removePermission(ctx *fasthttp.RequestCtx, requestID, name, sid string) *apiError {
	fn, e := a.policyFunction(ctx, name)
	if e != nil {
		return e
	}
	if sid == "" || len(sid) > maxStatementIDLen || !isStatementID(sid) {
		return errValidation("Value '" + sid + "' at 'statementId' failed to satisfy constraint: " +
			"Member must satisfy regular expression pattern: ([a-zA-Z0-9-_.]+)")
	}
	if _, err := a.policies.Remove(fn, sid, string(ctx.QueryArgs().Peek("RevisionId"))); err != nil {
		return a.policyError(fn, err)
	}
	writeEmpty(ctx, fasthttp.StatusNoContent, requestID)
	return nil
}

// policyError maps a policy error to Lambda's.
func (a *API) policyError(fn string, err error) *apiError {
	var tl *policy.TooLargeError
	switch {
	case errors.Is(err, policy.ErrDuplicateStatement):
		return newError(fasthttp.StatusConflict, excResourceConflict,
			"The statement id provided already exists. Please provide a new statement id, or remove the existing statement.")
	case errors.Is(err, policy.ErrStatementNotFound):
		return errNotFound("Statement is not found in resource policy.")
	case errors.Is(err, ErrNoPolicy):
		return errNotFound("The resource you requested does not exist.")
	case errors.Is(err, policy.ErrUnknownFunction):
		return errNotFound("Function not found: " + functionARN(a.region, a.account, fn))
	case errors.Is(err, policy.ErrRevisionMismatch):
		return newError(fasthttp.StatusPreconditionFailed, excPreconditionFailed,
			"The Revision Id provided does not match the latest Revision Id. Call the GetPolicy API to retrieve the latest Revision Id")
	case errors.As(err, &tl):
		return newError(fasthttp.StatusBadRequest, excPolicyLengthExceeded,
			"The final policy size ("+strconv.Itoa(tl.Size)+") is bigger than the limit ("+strconv.Itoa(tl.Limit)+").")
	}
	return errService("The policy could not be changed: " + err.Error())
}
