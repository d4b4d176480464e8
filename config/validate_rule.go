package config

import (
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/albedo-lb/albedo/internal/ascii"
)

var (
	methodRE   = lazyRegexp(`^[A-Z_-]+$`)
	redirectKW = lazyRegexp(`#\{[^}]*\}`)
)

// conditionKeys are the YAML keys of a Condition, in message order.
var conditionKeys = []string{"host_header", "http_header", "http_request_method", "path_pattern", "query_string", "source_ip"}

// conditions checks one rule's conditions against ALB's rules: one type per
// condition, one each of host/path/method/source-ip per rule, value counts,
// wildcard counts, lengths and character sets.
func (v *validator) conditions(conds []Condition, rp string) {
	cp := rp + ".conditions"
	if len(conds) == 0 {
		v.errorf(cp, "a rule needs at least one condition (only the default action has none)")
		return
	}
	first := map[string]int{}
	values, wildcards := 0, 0
	for i := range conds {
		p := indexPath(cp, i)
		kind := v.conditionKind(p)
		if kind == "" {
			continue
		}
		kp := p + "." + kind
		switch kind {
		case "host_header", "path_pattern", "http_request_method", "source_ip":
			if j, dup := first[kind]; dup {
				v.errorf(kp, "only one %s condition per rule (ALB limit); conditions[%d] has one already, list the values there", kind, j)
			}
			first[kind] = i
		}
		n, w := v.conditionValues(&conds[i], kind, kp)
		limit := maxValuesPerCondition
		if kind == "source_ip" {
			limit = maxSourceIPValues
		}
		if n > limit {
			v.errorf(kp, "at most %d values per %s condition (ALB limit), got %d", limit, kind, n)
		}
		values += n
		wildcards += w
	}
	if values > maxValuesPerRule {
		v.errorf(cp, "at most %d condition values per rule (ALB limit), got %d", maxValuesPerRule, values)
	}
	if wildcards > maxWildcardsPerRule {
		v.errorf(cp, "at most %d wildcards per rule (ALB limit), got %d", maxWildcardsPerRule, wildcards)
	}
}

// conditionKind returns the type (YAML key) of the condition at p, or ""
// after reporting a condition with none or several.
func (v *validator) conditionKind(p string) string {
	var kinds []string
	for _, k := range conditionKeys {
		if v.d.isSet(p + "." + k) {
			kinds = append(kinds, k)
		}
	}
	switch len(kinds) {
	case 1:
		return kinds[0]
	case 0:
		v.errorf(p, "each condition needs exactly one of %s", strings.Join(conditionKeys, ", "))
	default:
		v.errorf(p, "each condition takes exactly one type, got %s (write one list item per type)", strings.Join(kinds, " and "))
	}
	return ""
}

// conditionValues checks the values of condition c, of type kind, at kp,
// and returns how many values it has and how many wildcards they hold
// (both count against the rule's limits).
func (v *validator) conditionValues(c *Condition, kind, kp string) (n, wildcards int) {
	switch kind {
	case "host_header":
		n = len(c.HostHeader)
		for j, s := range c.HostHeader {
			wildcards += v.hostValue(indexPath(kp, j), s)
		}
	case "path_pattern":
		n = len(c.PathPattern)
		for j, s := range c.PathPattern {
			wildcards += v.pathValue(indexPath(kp, j), s)
		}
	case "http_request_method":
		n = len(c.HTTPRequestMethod)
		for j, s := range c.HTTPRequestMethod {
			v.methodValue(indexPath(kp, j), s)
		}
	case "source_ip":
		n = len(c.SourceIP)
		for j, s := range c.SourceIP {
			v.sourceIP(indexPath(kp, j), s)
		}
	case "http_header":
		h := c.HTTPHeader
		n = len(h.Values)
		v.headerName(kp+".name", h.Name)
		for j, s := range h.Values {
			wildcards += v.plainValue(indexPath(kp+".values", j), s, false)
		}
		if n == 0 {
			v.errorf(kp+".values", "needs at least one value")
		}
	case "query_string":
		n = len(c.QueryString)
		for j, q := range c.QueryString {
			qp := indexPath(kp, j)
			if q.Key != "" {
				wildcards += v.plainValue(qp+".key", q.Key, true)
			}
			if q.Value == "" {
				v.errorf(qp+".value", "required (key is optional)")
			} else {
				wildcards += v.plainValue(qp+".value", q.Value, true)
			}
		}
	}
	if n == 0 && kind != "http_header" {
		v.errorf(kp, "needs at least one value")
	}
	return n, wildcards
}

// methodValue checks one http_request_method value.
func (v *validator) methodValue(p, s string) {
	switch {
	case s == "":
		v.errorf(p, "value can't be empty")
	case len(s) > maxMethodLength:
		v.errorf(p, "longer than %d characters (ALB limit)", maxMethodLength)
	case !methodRE().MatchString(s):
		v.errorf(p, "invalid method %q: only A-Z, - and _ (matching is exact and case-sensitive)", s)
	}
}

// countWildcards counts '*' and '?'; with escapes (query_string only, as
// ALB and the balancer's matcher have it) "\*" and "\?" are literals.
func countWildcards(s string, escapes bool) int {
	n := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if escapes && i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '?') {
				i++
			}
		case '*', '?':
			n++
		}
	}
	return n
}

func (v *validator) valueLength(p, s string) bool {
	switch {
	case s == "":
		v.errorf(p, "value can't be empty")
	case len(s) > maxConditionValueLength:
		v.errorf(p, "longer than %d characters (ALB limit)", maxConditionValueLength)
	default:
		return true
	}
	return false
}

func (v *validator) hostValue(p, s string) int {
	if !v.valueLength(p, s) {
		return 0
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !(isAlnum(b) || b == '-' || b == '.' || b == '*' || b == '?') {
			v.errorf(p, "invalid character %q in %q: host names allow A-Z a-z 0-9 - . * ?", b, s)
			return 0
		}
	}
	dot := strings.LastIndexByte(s, '.')
	if dot < 0 {
		v.errorf(p, "%q must contain a \".\" (ALB rule)", s)
		return 0
	}
	tld := s[dot+1:]
	for i := 0; i < len(tld); i++ {
		if !isLetter(tld[i]) {
			tld = ""
			break
		}
	}
	if tld == "" {
		v.errorf(p, "%q must end in letters after its last \".\" (ALB rule)", s)
		return 0
	}
	return countWildcards(s, false)
}

const pathChars = `_-.$/~"'@:+&*?`

func (v *validator) pathValue(p, s string) int {
	if !v.valueLength(p, s) {
		return 0
	}
	for i := 0; i < len(s); i++ {
		if b := s[i]; !isAlnum(b) && strings.IndexByte(pathChars, b) < 0 {
			v.errorf(p, "invalid character %q in %q: path patterns allow A-Z a-z 0-9 %s", b, s, pathChars)
			return 0
		}
	}
	return countWildcards(s, false)
}

// plainValue checks a header or query-string value: printable ASCII. It
// returns the wildcard count; escapes is set for query-string values.
func (v *validator) plainValue(p, s string, escapes bool) int {
	if !v.valueLength(p, s) {
		return 0
	}
	for i := 0; i < len(s); i++ {
		if b := s[i]; b < 0x20 || b > 0x7e {
			v.errorf(p, "invalid character %q in %q: only printable ASCII is matched", b, s)
			return 0
		}
	}
	return countWildcards(s, escapes)
}

func (v *validator) headerName(p, s string) {
	switch {
	case s == "":
		v.errorf(p, "required")
		return
	case len(s) > maxHeaderNameLength:
		v.errorf(p, "longer than %d characters (ALB limit)", maxHeaderNameLength)
		return
	case strings.EqualFold(s, "host"):
		v.errorf(p, "can't be Host: use a host_header condition")
		return
	}
	for i := 0; i < len(s); i++ {
		if b := s[i]; !ascii.IsTokenChar(b) || b == '*' {
			v.errorf(p, "invalid header name %q: must be an HTTP token without wildcards", s)
			return
		}
	}
}

func (v *validator) sourceIP(p, s string) {
	if !strings.Contains(s, "/") {
		v.errorf(p, "%q is not a CIDR block: write %s/32 or %s/128", s, s, s)
		return
	}
	pfx, err := netip.ParsePrefix(s)
	if err != nil {
		v.errorf(p, "invalid CIDR block %q", s)
		return
	}
	if pfx == netip.MustParsePrefix("255.255.255.255/32") {
		v.errorf(p, "255.255.255.255/32 is not allowed (ALB rule)")
	}
}

func isLetter(b byte) bool { return b|0x20 >= 'a' && b|0x20 <= 'z' }
func isAlnum(b byte) bool  { return isLetter(b) || b >= '0' && b <= '9' }

// action checks a rule's or default action.
func (v *validator) action(a *Action, p string, l *Listener) {
	var kinds []string
	for _, k := range []string{"forward", "redirect", "fixed_response"} {
		if v.d.isSet(p + "." + k) {
			kinds = append(kinds, k)
		}
	}
	switch len(kinds) {
	case 1:
	case 0:
		v.errorf(p, "needs exactly one of forward, redirect, fixed_response")
		return
	default:
		v.errorf(p, "takes exactly one of forward, redirect, fixed_response, got %s", strings.Join(kinds, " and "))
		return
	}
	switch {
	case a.Forward != nil:
		v.forward(a.Forward, p+".forward")
	case a.Redirect != nil:
		v.redirect(a.Redirect, p+".redirect", l)
	case a.FixedResponse != nil:
		v.fixedResponse(a.FixedResponse, p+".fixed_response")
	}
}

func (v *validator) forward(f *Forward, p string) {
	single := v.d.isSet(p + ".target_group")
	if single && v.d.isSet(p+".target_groups") {
		v.errorf(p+".target_groups", "set either target_group or target_groups, not both")
		return
	}
	if len(f.TargetGroups) == 0 {
		v.errorf(p, "needs target_group or target_groups")
		return
	}
	if len(f.TargetGroups) > maxGroupsPerForward {
		v.errorf(p+".target_groups", "at most %d target groups per forward action (ALB limit), got %d", maxGroupsPerForward, len(f.TargetGroups))
	}
	for i, g := range f.TargetGroups {
		gp := indexPath(p+".target_groups", i)
		np := gp + ".name"
		if single {
			np = p + ".target_group"
		}
		switch {
		case g.Name == "":
			v.errorf(np, "required")
		case v.cfg.TargetGroupByName(g.Name) == nil:
			v.errorf(np, "target group %q is not defined in target_groups", g.Name)
		}
		for j := range i {
			if f.TargetGroups[j].Name == g.Name && g.Name != "" {
				v.errorf(np, "target group %q is already listed in target_groups[%d]", g.Name, j)
				break
			}
		}
		if g.Weight != nil {
			v.intRange(gp+".weight", *g.Weight, 0, maxWeight)
		}
	}
	if s := f.Stickiness; s != nil && (s.Enabled || v.d.isSet(p+".stickiness.duration")) {
		v.intRange(p+".stickiness.duration", s.Duration, 1, maxStickiness)
	}
}

// redirectKeywords lists the #{...} keywords each redirect field may use.
var redirectKeywords = map[string][]string{
	"protocol": {"#{protocol}"},
	"host":     {"#{host}"},
	"port":     {"#{port}"},
	"path":     {"#{host}", "#{path}", "#{port}"},
	"query":    {"#{host}", "#{path}", "#{port}", "#{protocol}", "#{query}"},
}

func (v *validator) redirect(r *Redirect, p string, l *Listener) {
	switch r.StatusCode {
	case "HTTP_301", "HTTP_302":
	case "":
		v.errorf(p+".status_code", "required: HTTP_301 or HTTP_302")
	default:
		v.errorf(p+".status_code", "must be HTTP_301 or HTTP_302, got %q", r.StatusCode)
	}
	switch r.Protocol {
	case "HTTP":
		if l.Protocol == "HTTPS" {
			v.errorf(p+".protocol", "an HTTPS listener can't redirect to HTTP (ALB rule)")
		}
	case "HTTPS", "#{protocol}":
	default:
		v.errorf(p+".protocol", "must be HTTP, HTTPS or #{protocol}, got %q", r.Protocol)
	}
	if r.Port != "#{port}" {
		if n, err := strconv.Atoi(r.Port); err != nil || n < 1 || n > 65535 {
			v.errorf(p+".port", "must be 1-65535 or #{port}, got %q", r.Port)
		}
	}
	v.redirectField(p+".host", "host", r.Host, 1)
	if v.redirectField(p+".path", "path", r.Path, 1) && !strings.HasPrefix(r.Path, "/") {
		v.errorf(p+".path", "must start with \"/\", got %q", r.Path)
	}
	if v.redirectField(p+".query", "query", r.Query, 0) && strings.HasPrefix(r.Query, "?") {
		v.errorf(p+".query", "must not start with \"?\" (it is added automatically)")
	}
	if r.Protocol == "#{protocol}" && r.Host == "#{host}" && r.Port == "#{port}" && r.Path == "/#{path}" {
		v.errorf(p, "must change at least one of protocol, host, port or path, or it redirects to itself")
	}
}

// redirectField checks length, percent-encoding and keywords; it reports
// whether the value passed, so that callers add only one message.
func (v *validator) redirectField(p, field, s string, min int) bool {
	if len(s) < min || len(s) > maxRedirectField {
		v.errorf(p, "must be %d-%d characters, got %d", min, maxRedirectField, len(s))
		return false
	}
	if field != "query" && strings.Contains(s, "%") {
		v.errorf(p, "must not be percent-encoded (ALB encodes it)")
		return false
	}
	for _, kw := range redirectKW().FindAllString(s, -1) {
		ok := false
		for _, allowed := range redirectKeywords[field] {
			ok = ok || kw == allowed
		}
		if !ok {
			v.errorf(p, "keyword %s can't be used in %s (allowed: %s)", kw, field, strings.Join(redirectKeywords[field], ", "))
			return false
		}
	}
	return true
}

// ContentTypes are the content types a fixed response may declare.
var ContentTypes = []string{"text/plain", "text/css", "text/html", "application/javascript", "application/json"}

func (v *validator) fixedResponse(f *FixedResponse, p string) {
	if !v.d.isSet(p + ".status_code") {
		v.errorf(p+".status_code", "required (2XX, 4XX or 5XX)")
	} else if s := f.StatusCode; !(s >= 200 && s <= 299 || s >= 400 && s <= 599) {
		v.errorf(p+".status_code", "must be a 2XX, 4XX or 5XX code, got %d", s)
	}
	if f.ContentType != "" {
		ok := false
		for _, ct := range ContentTypes {
			ok = ok || f.ContentType == ct
		}
		if !ok {
			v.errorf(p+".content_type", "must be one of %s, got %q", strings.Join(ContentTypes, ", "), f.ContentType)
		}
	}
	if n := utf8.RuneCountInString(f.MessageBody); n > maxFixedBody {
		v.errorf(p+".message_body", "at most %d characters (ALB limit), got %d", maxFixedBody, n)
	}
}
