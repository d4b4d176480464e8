package async

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/albedo-lb/albedo/targetgroup/executor"
)

func TestEventRoundTrip(t *testing.T) {
	t.Parallel()
	base := time.Date(2026, 11, 27, 3, 0, 0, 123456789, time.UTC)
	tests := []struct {
		name string
		ev   event
	}{
		{"fresh", event{Key: 7, RequestID: "id", Function: "fn", FunctionARN: "arn:x", Enqueued: base, Next: base, Payload: []byte(`{"a":1}`)}},
		{"empty payload", event{Key: 7, RequestID: "id", Function: "fn", Enqueued: base, Next: base}},
		{"after errors", event{Key: 7, RequestID: "id", Function: "fn", FunctionARN: "arn:y", Enqueued: base, Next: base.Add(time.Minute),
			Invokes: 2, Throttles: 7, LastStatus: 429, LastFunctionError: "Unhandled", LastResponse: []byte(`{"errorMessage":"x"}`),
			Payload: bytes.Repeat([]byte("z"), 5000)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := appendEvent(nil, &tt.ev)
			got, err := decodeEvent(7, b)
			if err != nil {
				t.Fatal(err)
			}
			want := tt.ev
			want.Enqueued, want.Next = time.Unix(0, want.Enqueued.UnixNano()), time.Unix(0, want.Next.UnixNano())
			if len(want.Payload) == 0 {
				want.Payload = nil
			}
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("decode = %+v\nwant     %+v", *got, want)
			}
			for n := range len(b) - len(tt.ev.Payload) {
				if _, err := decodeEvent(7, b[:n]); !errors.Is(err, ErrCorruptEvent) {
					t.Fatalf("truncated to %d: err = %v", n, err)
				}
			}
		})
	}
}

// TestEventChecksum: any changed byte of a stored event is found, and the
// version 1 encoding (no checksum, written before) still decodes.
func TestEventChecksum(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	ev := event{Key: 7, RequestID: "id", Function: "fn", FunctionARN: "arn:x", Enqueued: now, Next: now, Invokes: 1, Payload: []byte(`{"a":1}`)}
	b := appendEvent(nil, &ev)
	for i := range b {
		damaged := bytes.Clone(b)
		damaged[i] ^= 0x20
		if _, err := decodeEvent(7, damaged); !errors.Is(err, ErrCorruptEvent) {
			t.Fatalf("byte %d changed: err = %v", i, err)
		}
	}
	v1 := append([]byte{eventVersion1}, b[5:]...)
	got, err := decodeEvent(7, v1)
	if err != nil {
		t.Fatal(err)
	}
	if got.RequestID != ev.RequestID || got.Invokes != 1 || string(got.Payload) != string(ev.Payload) {
		t.Errorf("version 1 decoded as %+v", got)
	}
}

func FuzzDecodeEvent(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	f.Add(appendEvent(nil, &event{Function: "fn", FunctionARN: "arn", Enqueued: now, Next: now, Payload: []byte(`{}`)}))
	f.Add(appendEvent(nil, &event{Function: "fn", Invokes: 3, LastResponse: []byte("x"), Enqueued: now, Next: now}))
	f.Add([]byte{1})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := decodeEvent(7, b)
		if err != nil {
			if !errors.Is(err, ErrCorruptEvent) {
				t.Fatalf("error %v is not ErrCorruptEvent", err)
			}
			return
		}
		// What decodes re-encodes to the same event.
		again, err := decodeEvent(7, appendEvent(nil, ev))
		if err != nil || !reflect.DeepEqual(ev, again) {
			t.Fatalf("re-encode: %+v, %v; want %+v", again, err, ev)
		}
	})
}

func TestNewRequestID(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 1000 {
		id := executor.NewRequestID()
		if len(id) != 36 || id[8] != '-' || id[13] != '-' || id[14] != '4' || id[18] != '-' || id[23] != '-' ||
			!bytes.ContainsRune([]byte("89ab"), rune(id[19])) || seen[id] {
			t.Fatalf("bad or repeated request id %q", id)
		}
		seen[id] = true
	}
}
