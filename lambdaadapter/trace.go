package lambdaadapter

import (
	"bytes"
	"time"
)

// appendTrace appends the X-Amzn-Trace-Id value the balancer forwards
// (ALB request tracing, "Syntax" and "Limitations":
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-request-tracing.html),
// given the last incoming value:
//   - none, or request headers over 7 KB: "Root=1-{epoch hex8}-{hex24}";
//   - a Self field present: its value is replaced, the rest kept;
//   - a Root field present: "Self=<new>;" is put in front of the value;
//   - neither (UNCONFIRMED): "Root=<new>;" is put in front of the value.
func (e *Encoder) appendTrace(dst, in []byte, has bool, hdrSize int) []byte {
	in = trimLeft(trimRight(in))
	if !has || len(in) == 0 || hdrSize > traceRewriteHeaderSize {
		dst = append(dst, "Root="...)
		return e.appendTraceField(dst)
	}
	// Look for a Self or Root field.
	hasRoot := false
	for rest, off := in, 0; len(rest) > 0; {
		field := rest
		n := bytes.IndexByte(rest, ';')
		if n >= 0 {
			field = rest[:n]
		}
		f := trimLeft(field)
		lead := len(field) - len(f)
		if bytes.HasPrefix(f, []byte("Self=")) {
			start := off + lead + len("Self=")
			end := off + len(trimRight(field))
			dst = append(dst, in[:start]...)
			dst = e.appendTraceField(dst)
			return append(dst, in[end:]...)
		}
		if bytes.HasPrefix(f, []byte("Root=")) {
			hasRoot = true
		}
		if n < 0 {
			break
		}
		rest = rest[n+1:]
		off += n + 1
	}
	if hasRoot {
		dst = append(dst, "Self="...)
	} else {
		dst = append(dst, "Root="...)
	}
	dst = e.appendTraceField(dst)
	dst = append(dst, ';')
	return append(dst, in...)
}

// appendTraceField appends "1-{epoch seconds, 8 hex}-{96 random bits, 24 hex}".
func (e *Encoder) appendTraceField(dst []byte) []byte {
	var now time.Time
	if e.Now != nil {
		now = e.Now()
	} else {
		now = time.Now()
	}
	rnd := e.Rand
	if rnd == nil {
		rnd = randUint64
	}
	hi, lo := rnd(), rnd()
	dst = append(dst, '1', '-')
	dst = appendHex(dst, uint64(uint32(now.Unix())), 8)
	dst = append(dst, '-')
	dst = appendHex(dst, hi, 16)
	return appendHex(dst, lo>>32, 8)
}

func appendHex(dst []byte, v uint64, digits int) []byte {
	for i := digits - 1; i >= 0; i-- {
		dst = append(dst, hexDigits[(v>>(uint(i)*4))&0xf])
	}
	return dst
}
