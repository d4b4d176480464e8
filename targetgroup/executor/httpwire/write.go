package httpwire

import (
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Writer writes the answers of one connection, in order, from whichever
// goroutine answers: each answer is one write, with the answer Hold kept
// in front of it.
type Writer struct {
	mu   sync.Mutex
	c    net.Conn
	buf  []byte // guarded by mu
	held []byte // guarded by mu: an answer to write in front of the next
}

// NewWriter returns a Writer of c.
func NewWriter(c net.Conn) *Writer { return &Writer{c: c} }

// Begin locks w and returns a buffer to append an answer's head to; it
// begins with the held answer, if any. End or Hold must follow, on the
// same goroutine.
func (w *Writer) Begin() []byte {
	w.mu.Lock()
	if w.held == nil {
		return w.buf[:0]
	}
	b := w.held
	w.held = nil
	return b
}

// End writes b (from Begin) and body, in one write when they are small,
// and unlocks w.
func (w *Writer) End(b, body []byte) error {
	defer w.mu.Unlock()
	var err error
	if len(b)+len(body) <= 32<<10 {
		b = append(b, body...)
		_, err = w.c.Write(b)
	} else {
		bufs := net.Buffers{b, body}
		_, err = bufs.WriteTo(w.c)
	}
	if cap(b) <= 64<<10 {
		w.buf = b[:0]
	}
	return err
}

// Hold keeps b (from Begin, a complete answer) to be written in front of
// the next answer, and unlocks w: for a client that pipelined its next
// request, the two answers go out in one write.
func (w *Writer) Hold(b []byte) {
	w.held = b
	w.buf = nil // now owned by held
	w.mu.Unlock()
}

// Continue is the interim answer to Expect: 100-continue.
const Continue = "HTTP/1.1 100 Continue\r\n\r\n"

// AppendHead appends a status line and the fields every answer has:
// Content-Type, Date, Content-Length, and Connection: close when closing.
// The caller appends its own fields, then the empty line.
func AppendHead(b []byte, status int, contentType string, length int, closing bool) []byte {
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, ' ')
	b = append(b, http.StatusText(status)...)
	b = append(b, "\r\nContent-Type: "...)
	b = append(b, contentType...)
	b = append(b, "\r\nDate: "...)
	b = AppendDate(b)
	b = append(b, "\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(length), 10)
	b = append(b, '\r', '\n')
	if closing {
		b = append(b, "Connection: close\r\n"...)
	}
	return b
}

// AppendField appends one field line. Values may come from anyone (a
// client context, a trace header): line breaks become spaces, as net/http
// writes them, so that no value can end the head early or add a field.
func AppendField(b []byte, name, value string) []byte {
	b = append(b, name...)
	b = append(b, ':', ' ')
	n := len(b)
	b = append(b, value...)
	for i := n; i < len(b); i++ {
		if b[i] == '\r' || b[i] == '\n' {
			b[i] = ' '
		}
	}
	return append(b, '\r', '\n')
}

// AppendDate appends the current time in HTTP's format, from a cache
// refreshed once a second.
func AppendDate(b []byte) []byte {
	now := time.Now().Unix()
	dateMu.Lock()
	if now != dateSec {
		dateSec = now
		dateBuf = time.Unix(now, 0).UTC().AppendFormat(dateBuf[:0], http.TimeFormat)
	}
	b = append(b, dateBuf...)
	dateMu.Unlock()
	return b
}

var (
	dateMu  sync.Mutex
	dateSec int64
	dateBuf []byte
)
