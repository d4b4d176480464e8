package invokeapi

import "github.com/albedo-lb/albedo/targetgroup/executor/policy"

// latest is the only qualifier a local function has.
const latest = "$LATEST"

// namePatternText is Lambda's FunctionName pattern, quoted in validation
// messages (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_RequestParameters).
const namePatternText = `(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?`

// functionRef is a parsed FunctionName (+ Qualifier).
type functionRef struct {
	Name      string
	Qualifier string // "" when none was given
	Region    string // "" when the input named none
	Account   string // "" when the input named none
}

// parseFunctionName splits a FunctionName path value in any of Lambda's
// forms — name, name:qualifier, partial ARN account:function:name[:q], full
// ARN — and merges the Qualifier query parameter. A qualifier in both places
// must agree.
func parseFunctionName(s, queryQualifier string) (functionRef, *apiError) {
	if len(s) == 0 || len(s) > maxFunctionNameInputLen {
		return functionRef{}, errValidation("Value '" + s + "' at 'functionName' failed to satisfy constraint: " +
			"Member must have length between 1 and 170")
	}
	ref, ok := splitFunctionName(s)
	if !ok {
		return functionRef{}, errValidation("Value '" + s + "' at 'functionName' failed to satisfy constraint: " +
			"Member must satisfy regular expression pattern: " + namePatternText)
	}
	if queryQualifier != "" {
		if len(queryQualifier) > maxQualifierLen || !isQualifier(queryQualifier) {
			return functionRef{}, errValidation("Value '" + queryQualifier + "' at 'qualifier' failed to satisfy constraint: " +
				"Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)")
		}
		if ref.Qualifier != "" && ref.Qualifier != queryQualifier {
			return functionRef{}, errInvalidParameter("The derived qualifier from the function name does not match the specified qualifier.")
		}
		ref.Qualifier = queryQualifier
	}
	return ref, nil
}

// splitFunctionName walks the colon-separated parts: optional "arn:PARTITION:lambda:"
// prefix, optional region, optional 12-digit account, optional "function",
// the name, an optional qualifier.
func splitFunctionName(s string) (functionRef, bool) {
	var buf [maxNameParts]string
	parts, ok := splitColon(buf[:0], s)
	var ref functionRef
	if !ok {
		return ref, false
	}
	i := 0
	if parts[0] == "arn" {
		if len(parts) < 4 || !isPartition(parts[1]) || parts[2] != "lambda" {
			return ref, false
		}
		i = 3
		if isRegion(parts[i]) {
			ref.Region = parts[i]
			i++
		} else if parts[i] == "" {
			return ref, false
		}
	} else if isRegion(parts[0]) && len(parts) > 1 {
		// Lambda's pattern allows a bare region prefix too.
		ref.Region = parts[0]
		i = 1
	}
	if i < len(parts)-1 && policy.IsAccountID(parts[i]) {
		ref.Account = parts[i]
		i++
	}
	if i < len(parts)-1 && parts[i] == "function" {
		i++
	}
	if i >= len(parts) || !isName(parts[i]) {
		return ref, false
	}
	ref.Name = parts[i]
	i++
	if i < len(parts) {
		q := parts[i]
		if i != len(parts)-1 || !(q == latest || isName(q) && !containsByte(q, '.')) {
			return ref, false
		}
		ref.Qualifier = q
	}
	return ref, true
}

// maxNameParts is the most colon-separated parts a valid FunctionName has:
// arn, partition, lambda, region, account, function, name, qualifier.
const maxNameParts = 8

// splitColon appends the colon-separated parts of s to dst; false when
// there are more than maxNameParts.
func splitColon(dst []string, s string) ([]string, bool) {
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			if len(dst) == maxNameParts-1 {
				return dst, false
			}
			dst = append(dst, s[start:i])
			start = i + 1
		}
	}
	return append(dst, s[start:]), true
}

func containsByte(s string, c byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return true
		}
	}
	return false
}

// isPartition matches (aws[a-zA-Z-]*)?.
func isPartition(s string) bool {
	if s == "" {
		return true
	}
	if len(s) < 3 || s[:3] != "aws" {
		return false
	}
	for i := 3; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-') {
			return false
		}
	}
	return true
}

// isRegion matches [a-z]{2}(-gov)?-[a-z]+-\d{1}.
func isRegion(s string) bool {
	if len(s) < 6 || !isLower(s[0]) || !isLower(s[1]) || s[2] != '-' {
		return false
	}
	rest := s[3:]
	if len(rest) > 4 && rest[:4] == "gov-" {
		rest = rest[4:]
	}
	n := len(rest)
	if n < 3 || rest[n-2] != '-' || rest[n-1] < '0' || rest[n-1] > '9' {
		return false
	}
	for i := 0; i < n-2; i++ {
		if !isLower(rest[i]) {
			return false
		}
	}
	return true
}

func isLower(c byte) bool { return c >= 'a' && c <= 'z' }

// isName matches [a-zA-Z0-9-_\.]+.
func isName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// functionARN is arn:aws:lambda:{region}:{account}:function:{name}.
func functionARN(region, account, name string) string {
	return "arn:aws:lambda:" + region + ":" + account + ":function:" + name
}

// isQualifier matches [a-zA-Z0-9$_-]+.
func isQualifier(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '$') {
			return false
		}
	}
	return true
}
