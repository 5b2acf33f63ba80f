package ws

import (
	"encoding/json"
	"reflect"
	"testing"

	"parley"
)

// genericSend decodes data as handle does without parseSend.
func genericSend(data []byte) (sendOp, bool) {
	if parley.CheckJSONText(data) != nil {
		return sendOp{}, false
	}
	var req request
	if err := json.Unmarshal(data, &req); err != nil || req.Op != "send" {
		return sendOp{}, false
	}
	var r struct {
		base
		ConversationID int64   `json:"conversation_id"`
		Attachments    []int64 `json:"attachments"`
		ReplyTo        int64   `json:"reply_to"`
		ClientMsgID    string  `json:"client_msg_id"`
		Text           string  `json:"text"`
	}
	if err := parley.Decode(data, &r); err != nil {
		return sendOp{}, false
	}
	return sendOp{id: rawID(r.ID), conversationID: r.ConversationID, clientMsgID: r.ClientMsgID, text: r.Text,
		attachments: r.Attachments, replyTo: r.ReplyTo}, true
}

func checkSend(t *testing.T, data string) (fast bool) {
	t.Helper()
	op, ok := parseSend([]byte(data))
	if !ok {
		return false
	}
	want, wok := genericSend([]byte(data))
	if !wok || !reflect.DeepEqual(op, want) {
		t.Fatalf("parseSend(%q) = %+v, but the generic decoder gives %+v (ok %v)", data, op, want, wok)
	}
	return true
}

// TestParseSend: the plain sends clients write take the fast path and read
// as the generic decoder reads them; anything else is left to it.
func TestParseSend(t *testing.T) {
	for _, in := range []string{
		`{"op":"send","id":"1","conversation_id":7,"client_msg_id":"c-1","text":"hello"}`,
		` { "text" : "héllo 😀 <b>&" , "client_msg_id":"x","conversation_id":-3,"id":"a b","op":"send" } `,
		`{"op":"send"}`,
		`{"op":"send","id":"","conversation_id":0,"text":""}`,
		`{"op":"send","conversation_id":9223372036854775807}`,
	} {
		if !checkSend(t, in) {
			t.Errorf("parseSend(%q) left a plain send to the generic decoder", in)
		}
	}
	for _, in := range []string{
		`{"op":"sync","id":"1"}`,
		`{"op":"send","id":1,"conversation_id":7}`,            // a numeric id
		`{"op":"send","text":"a\nb"}`,                         // an escape
		`{"op":"send","conversation_id":7.0}`,                 // not an integer
		`{"op":"send","conversation_id":1e2}`,                 //
		`{"op":"send","conversation_id":07}`,                  // not JSON
		`{"op":"send","conversation_id":9223372036854775808}`, // too large
		`{"op":"send","Text":"case"}`,                         // matched without case by encoding/json
		`{"op":"send","text":"a","text":"b"}`,                 // a key twice
		`{"op":"send","extra":1}`,                             // unknown: the generic decoder refuses it
		`{"op":"send","text":null}`,
		`{"op":"send"} {}`,
		`{"op":"send",}`,
		`[{"op":"send"}]`,
		"{\"op\":\"send\",\"text\":\"\xff\"}",
	} {
		if checkSend(t, in) {
			t.Errorf("parseSend(%q) took the fast path", in)
		}
	}
}

// FuzzParseSend: whatever parseSend accepts, the generic decoder reads the
// same.
func FuzzParseSend(f *testing.F) {
	f.Add(`{"op":"send","id":"1","conversation_id":7,"client_msg_id":"c-1","text":"hello"}`)
	f.Add(` {"text":"é","op":"send","conversation_id":-0} `)
	f.Add(`{"op":"send","id":"\u00e9"}`)
	f.Fuzz(func(t *testing.T, in string) { checkSend(t, in) })
}

var sendFrame = []byte(`{"op":"send","id":"1764990245123456789","conversation_id":1042,"client_msg_id":"7cw2mu0-95","text":"~7cw2mu0 1764990245123456789 abcdefghijklmnopqrstuvwxyz0123456789 abcdefghijklmnopqrstuvwxyz0123456789 abcdefghijklmnopq"}`)

// BenchmarkDecodeSend compares reading a send with parseSend and with the
// generic decoder (encoding/json: the envelope, then the op strictly).
func BenchmarkDecodeSend(b *testing.B) {
	b.Run("parseSend", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := parseSend(sendFrame); !ok {
				b.Fatal("not parsed")
			}
		}
	})
	b.Run("generic", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := genericSend(sendFrame); !ok {
				b.Fatal("not parsed")
			}
		}
	})
}
