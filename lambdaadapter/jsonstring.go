package lambdaadapter

import "unicode/utf8"

// plainInString marks the bytes a JSON string holds as themselves: all
// but '"', '\\' and the control characters. Bytes of 0x80 and above are
// marked; the encoder checks UTF-8 sequences separately, the decoder reads
// a payload already known to be valid UTF-8.
var plainInString = func() (t [256]bool) {
	for c := 0x20; c < len(t); c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string literal. It escapes only what
// JSON requires: '"', '\\' and control characters (\b \t \n \f \r short
// forms, \u00XX otherwise). '/', '<', '>', '&', U+2028/U+2029 and all other
// valid UTF-8 pass through as raw bytes, as in the events captured from
// real ALBs ("lambda-λ" arrives unescaped in
// https://github.com/hotsock/voker/blob/2785c1da1a9d03c1a4b6533827185619fccf9ef1/vokerhttp/testdata/alb-request.json). Each byte of invalid UTF-8 becomes
// \ufffd, so the event is always valid JSON (UNCONFIRMED: the ALB answers
// such requests with LambdaBadRequest instead).
func appendJSONString[T string | []byte](dst []byte, s T) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		// Skip 8 plain bytes at a time (SWAR): no byte < 0x20, '"', '\\'
		// or >= 0x80 in the word.
		for i+8 <= len(s) {
			x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
				uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
			if (hasLess(x, 0x20)|hasZero(x^(lsb*'"'))|hasZero(x^(lsb*'\\'))|x)&msb != 0 {
				break
			}
			i += 8
		}
		// The word holds something special: walk it bytewise.
		end := min(i+8, len(s))
		for i < end && s[i] < utf8.RuneSelf && plainInString[s[i]] {
			i++
		}
		if i == end {
			continue
		}
		c := s[i]
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\r':
				dst = append(dst, '\\', 'r')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		if n := utf8SeqLen(s, i); n > 0 {
			i += n
			continue
		}
		dst = append(dst, s[start:i]...)
		dst = append(dst, `\ufffd`...)
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// hasZero has the high bit of some byte set if a byte of x is zero (exact
// when combined with the other tests: false positives only above a real hit).
func hasZero(x uint64) uint64 { return (x - lsb) &^ x & msb }

// hasLess flags bytes of x below n (n <= 128).
func hasLess(x uint64, n uint64) uint64 { return (x - lsb*n) &^ x & msb }

// utf8SeqLen returns the length of the valid UTF-8 sequence starting at
// s[i] (whose first byte is not ASCII), or 0 if it is invalid. It follows
// the well-formed byte sequences of Unicode Table 3-7, exactly as
// unicode/utf8 does, but works on strings and byte slices alike.
func utf8SeqLen[T string | []byte](s T, i int) int {
	b0 := s[i]
	var lo, hi byte = 0x80, 0xBF
	n := 0
	switch {
	case b0 >= 0xC2 && b0 <= 0xDF:
		n = 2
	case b0 == 0xE0:
		n, lo = 3, 0xA0
	case b0 == 0xED:
		n, hi = 3, 0x9F
	case b0 >= 0xE1 && b0 <= 0xEF:
		n = 3
	case b0 == 0xF0:
		n, lo = 4, 0x90
	case b0 == 0xF4:
		n, hi = 4, 0x8F
	case b0 >= 0xF1 && b0 <= 0xF3:
		n = 4
	default:
		return 0
	}
	if i+n > len(s) {
		return 0
	}
	if b := s[i+1]; b < lo || b > hi {
		return 0
	}
	for k := 2; k < n; k++ {
		if b := s[i+k]; b < 0x80 || b > 0xBF {
			return 0
		}
	}
	return n
}
