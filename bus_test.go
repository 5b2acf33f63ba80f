package parley_test

import (
	"reflect"
	"testing"

	"parley"
)

// Every field survives the trip through the bus encoding.
func TestEventRoundTrip(t *testing.T) {
	for _, e := range []parley.Event{
		{Type: parley.EventFrame, ConversationID: 7, Seq: 41, Mod: 44, Frame: []byte(`{"ev":"message"}`)},
		{Type: parley.EventJoin, ConversationID: 1 << 40, UserID: 3, Seq: 1, Mod: 1},
		{Type: parley.EventRevoke, UserID: 9, SessionID: 12, All: true, ConnID: "n1-4", ExceptConn: "n2-5"},
		{Type: parley.EventFrame, ConversationID: 2, Mod: -1},
	} {
		got, err := parley.UnmarshalEvent(parley.MarshalEvent(e))
		if err != nil || !reflect.DeepEqual(got, e) {
			t.Errorf("round trip of %+v: %+v, %v", e, got, err)
		}
	}
	if _, err := parley.UnmarshalEvent([]byte{1, 2}); err == nil {
		t.Error("a truncated event decoded")
	}
}
