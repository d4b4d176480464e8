package balancer

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/albedo-lb/albedo/config"
)

// keyword is a #{...} placeholder of a redirect component.
type keyword uint8

const (
	kwNone keyword = iota
	kwProtocol
	kwHost
	kwPort
	kwPath
	kwQuery
)

var keywords = [...]struct {
	text string
	kw   keyword
}{
	{"#{protocol}", kwProtocol},
	{"#{host}", kwHost},
	{"#{port}", kwPort},
	{"#{path}", kwPath},
	{"#{query}", kwQuery},
}

// segment is a literal or a keyword of a compiled template.
type segment struct {
	lit string
	kw  keyword
}

// template is a compiled redirect component.
type template []segment

// compileTemplate splits s into literals and keywords. An unknown "#{...}"
// stays literal.
func compileTemplate(s string) template {
	var t template
	lit := 0
	for i := 0; i < len(s); i++ {
		if s[i] != '#' {
			continue
		}
		for _, k := range keywords {
			if strings.HasPrefix(s[i:], k.text) {
				if i > lit {
					t = append(t, segment{lit: s[lit:i]})
				}
				t = append(t, segment{kw: k.kw})
				i += len(k.text) - 1
				lit = i + 1
				break
			}
		}
	}
	if lit < len(s) {
		t = append(t, segment{lit: s[lit:]})
	}
	return t
}

// redirectVars are the values the keywords expand to for one request.
type redirectVars struct {
	scheme string // "http" | "https"
	host   []byte // request host without port
	port   int    // listener port
	path   []byte // raw path without its leading '/'
	query  []byte // raw query without '?'
}

func (t template) appendTo(dst []byte, v *redirectVars) []byte {
	for _, s := range t {
		switch s.kw {
		case kwNone:
			dst = append(dst, s.lit...)
		case kwProtocol:
			dst = append(dst, v.scheme...)
		case kwHost:
			dst = append(dst, v.host...)
		case kwPort:
			dst = strconv.AppendInt(dst, int64(v.port), 10)
		case kwPath:
			dst = append(dst, v.path...)
		case kwQuery:
			dst = append(dst, v.query...)
		}
	}
	return dst
}

// redirectAction answers 301/302 with a Location built from templates.
type redirectAction struct {
	status                     int
	protocol, host, port, path template
	query                      template
}

// escapePath percent-encodes what may not appear raw in a URI path (RFC
// 3986 pchar and '/' stay): the redirect path is written unencoded in the
// config and ALB encodes it. '%' is kept, though config refuses it.
func escapePath(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if pathChar(c) {
			if b.Len() > 0 {
				b.WriteByte(c)
			}
			continue
		}
		if b.Len() == 0 {
			b.Grow(len(s) + 8)
			b.WriteString(s[:i])
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&0xf])
	}
	if b.Len() == 0 {
		return s
	}
	return b.String()
}

// pathChar reports an RFC 3986 pchar or '/' (and '%').
func pathChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~!$&'()*+,;=:@/%", c) >= 0
}

// compileRedirect compiles a redirect. Unset components keep the request's
// own value (the defaults config.Load applies, repeated here for in-memory
// configs). The query is the exception: ALB allows an empty query, which
// drops the request's, and config.Load keeps a query written as "". So
// "" means #{query} only in a config Load did not normalise, recognised by
// an unset protocol, host, port or path (Load always fills all four).
func compileRedirect(r *config.Redirect) (*redirectAction, error) {
	ra := &redirectAction{}
	switch r.StatusCode {
	case "HTTP_301":
		ra.status = 301
	case "HTTP_302":
		ra.status = 302
	default:
		return nil, fmt.Errorf("%w: redirect status_code %q (want HTTP_301 or HTTP_302)", ErrInvalidAction, r.StatusCode)
	}
	or := func(v, def string) string {
		if v == "" {
			return def
		}
		return v
	}
	proto := or(r.Protocol, "#{protocol}")
	switch proto {
	case "HTTP", "HTTPS", "#{protocol}":
	default:
		return nil, fmt.Errorf("%w: redirect protocol %q (want HTTP, HTTPS or #{protocol})", ErrInvalidAction, r.Protocol)
	}
	ra.protocol = compileTemplate(strings.ToLower(proto))
	ra.host = compileTemplate(or(r.Host, "#{host}"))
	ra.port = compileTemplate(or(r.Port, "#{port}"))
	ra.path = compileTemplate(or(r.Path, "/#{path}"))
	for i := range ra.path {
		ra.path[i].lit = escapePath(ra.path[i].lit)
	}
	query := r.Query
	if query == "" && (r.Protocol == "" || r.Host == "" || r.Port == "" || r.Path == "") {
		query = "#{query}"
	}
	ra.query = compileTemplate(query)
	return ra, nil
}

// appendLocation appends protocol://host:port/path[?query]. The port is
// always explicit, as ALB writes it; "?" is left out when the query
// expands to nothing.
func (ra *redirectAction) appendLocation(dst []byte, v *redirectVars) []byte {
	dst = ra.protocol.appendTo(dst, v)
	dst = append(dst, "://"...)
	dst = ra.host.appendTo(dst, v)
	dst = append(dst, ':')
	dst = ra.port.appendTo(dst, v)
	start := len(dst)
	dst = ra.path.appendTo(dst, v)
	if len(dst) == start || dst[start] != '/' {
		dst = append(dst[:start], append([]byte{'/'}, dst[start:]...)...)
	}
	q := len(dst)
	dst = append(dst, '?')
	dst = ra.query.appendTo(dst, v)
	if len(dst) == q+1 {
		dst = dst[:q]
	}
	return dst
}
