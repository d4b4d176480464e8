package lambdaadapter

import "bytes"

// splitRequestURI splits the raw request URI into the path, still
// percent-encoded (alb.md §1.3), and the raw query without any #fragment.
// An absolute-form URI (http://host/p) loses its scheme and authority.
func splitRequestURI(uri []byte) (path, query []byte) {
	if i := bytes.IndexByte(uri, '#'); i >= 0 {
		uri = uri[:i]
	}
	if len(uri) > 0 && uri[0] != '/' {
		if i := bytes.Index(uri, []byte("://")); i > 0 && bytes.IndexByte(uri[:i], '/') < 0 && bytes.IndexByte(uri[:i], '?') < 0 {
			rest := uri[i+3:]
			j := bytes.IndexAny(rest, "/?")
			if j < 0 {
				return []byte("/"), nil
			}
			uri = rest[j:]
			if uri[0] == '?' {
				return []byte("/"), uri[1:]
			}
		}
	}
	if i := bytes.IndexByte(uri, '?'); i >= 0 {
		return uri[:i], uri[i+1:]
	}
	return uri, nil
}

// appendQuery splits a raw query into parameters, appended to dst in client
// order. Nothing is decoded: '+' stays '+' and %XX stays %XX (alb.md §1.4).
// Empty segments (a&&b, ?&a) are skipped; "k=" and a bare "k" both give the
// value "" (the latter UNCONFIRMED); "=v" gives the key "".
func appendQuery(dst []kv, q []byte) []kv {
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
			dst = append(dst, kv{seg[:i], seg[i+1:]})
		} else {
			dst = append(dst, kv{seg, seg[len(seg):]})
		}
	}
	return dst
}
