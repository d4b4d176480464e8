package lambdaadapter

import "bytes"

// SplitRequestURI splits the raw request URI into the path, still
// percent-encoded (as in a live capture from a real ALB:
// https://github.com/hotsock/voker/blob/2785c1da1a9d03c1a4b6533827185619fccf9ef1/vokerhttp/testdata/alb-request.json),
// and the raw query without any #fragment.
// An absolute-form URI (any scheme://authority) loses its scheme and
// authority; an empty path is "/". It is the one definition of "the path"
// and "the query": the event carries them, and the balancer's path-pattern
// and query-string conditions match them, so a request can never be routed
// by one path and deliver another (e.g. "GET ftp://h/admin" matching no
// "/admin*" rule while the function sees "/admin"). The results alias uri.
func SplitRequestURI(uri []byte) (path, query []byte) {
	if i := bytes.IndexByte(uri, '#'); i >= 0 {
		uri = uri[:i]
	}
	if len(uri) > 0 && uri[0] != '/' {
		if i := bytes.Index(uri, []byte("://")); i > 0 && bytes.IndexByte(uri[:i], '/') < 0 && bytes.IndexByte(uri[:i], '?') < 0 {
			rest := uri[i+3:]
			j := bytes.IndexAny(rest, "/?")
			if j < 0 {
				return slash, nil
			}
			uri = rest[j:] // "?q" here gets the path "/" below
		}
	}
	if i := bytes.IndexByte(uri, '?'); i >= 0 {
		path, query = uri[:i], uri[i+1:]
	} else {
		path = uri
	}
	if len(path) == 0 {
		path = slash
	}
	return path, query
}

var slash = []byte("/")

// NextQueryParam cuts the first parameter off the raw query q: key and
// value raw (nothing is decoded: '+' stays '+' and %XX stays %XX; "If the
// query parameters are URL-encoded, the load balancer does not decode
// them", https://docs.aws.amazon.com/elasticloadbalancing/latest/application/lambda-functions.html#multi-value-headers-request,
// and the '+' as in the capture cited at SplitRequestURI), rest the
// remaining query. Empty segments (a&&b, ?&a) are skipped;
// "k=" and a bare "k" both give the value "" (the latter UNCONFIRMED); "=v"
// gives the key "". ok is false when q holds no more parameters. The event
// and the balancer's query-string conditions both read queries with it.
func NextQueryParam(q []byte) (key, value, rest []byte, ok bool) {
	for len(q) > 0 {
		var seg []byte
		if i := bytes.IndexByte(q, '&'); i >= 0 {
			seg, q = q[:i], q[i+1:]
		} else {
			seg, q = q, nil
		}
		if len(seg) == 0 {
			continue
		}
		if i := bytes.IndexByte(seg, '='); i >= 0 {
			return seg[:i], seg[i+1:], q, true
		}
		return seg, seg[len(seg):], q, true
	}
	return nil, nil, nil, false
}

// appendQuery splits a raw query into parameters, appended to dst in client
// order (see NextQueryParam).
func appendQuery(dst []kv, q []byte) []kv {
	for {
		k, v, rest, ok := NextQueryParam(q)
		if !ok {
			return dst
		}
		dst = append(dst, kv{k, v})
		q = rest
	}
}
