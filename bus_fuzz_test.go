package parley_test

import (
	"reflect"
	"testing"

	"parley"
)

// FuzzEvent: MarshalEvent and UnmarshalEvent are inverses, and
// UnmarshalEvent never panics on what a bus hands it; whatever it accepts
// encodes back to an event that decodes the same. The seed corpus runs
// with every go test; go test -fuzz FuzzEvent . explores further.
func FuzzEvent(f *testing.F) {
	for _, e := range []parley.Event{
		{},
		{Type: parley.EventFrame, ConversationID: 7, Seq: 42, Mod: 44, Frame: []byte(`{"ev":"message"}`)},
		{Type: parley.EventJoin, ConversationID: 1 << 40, UserID: 3, Frame: []byte(`{"ev":"conversation"}`)},
		{Type: parley.EventLeave, ConversationID: 9, UserID: -1, Mod: -1},
		{Type: parley.EventRevoke, UserID: 5, SessionID: 6, All: true},
		{Type: parley.EventFrame, UserID: 5, ConnID: "n1-42", ExceptConn: "n2-7", Frame: []byte("x")},
	} {
		f.Add(e.Type, e.ConversationID, e.UserID, e.SessionID, e.Seq, e.Mod, e.All, e.ConnID, e.ExceptConn, e.Frame)
	}
	f.Fuzz(func(t *testing.T, typ byte, conv, user, sess, seq, mod int64, all bool, conn, except string, frame []byte) {
		in := parley.Event{Type: typ, ConversationID: conv, UserID: user, SessionID: sess, Seq: seq, Mod: mod,
			All: all, ConnID: conn, ExceptConn: except, Frame: frame}
		b := parley.MarshalEvent(in)
		out, err := parley.UnmarshalEvent(b)
		if err != nil {
			t.Fatalf("UnmarshalEvent(MarshalEvent(%+v)): %v", in, err)
		}
		if !sameEvent(in, out) {
			t.Fatalf("round trip: %+v became %+v", in, out)
		}
		// The encoding cut short, and the fuzzer's bytes read as an event:
		// no panic, and what decodes re-encodes to the same event.
		for _, data := range [][]byte{b[:len(b)/2], b[:len(b)-len(frame)], frame} {
			e, err := parley.UnmarshalEvent(data)
			if err != nil {
				continue
			}
			again, err := parley.UnmarshalEvent(parley.MarshalEvent(e))
			if err != nil || !sameEvent(e, again) {
				t.Fatalf("%q decoded to %+v, which re-encodes to %+v (%v)", data, e, again, err)
			}
		}
	})
}

// sameEvent compares events, taking a nil and an empty Frame as equal.
func sameEvent(a, b parley.Event) bool {
	if len(a.Frame) == 0 {
		a.Frame = nil
	}
	if len(b.Frame) == 0 {
		b.Frame = nil
	}
	return reflect.DeepEqual(a, b)
}
