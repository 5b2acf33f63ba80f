package client

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"
)

func TestSplitFrame(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{`{"ev":"a"}`, []string{`{"ev":"a"}`}},
		{"{\"ev\":\"a\"}\n{\"re\":\"1\"}", []string{`{"ev":"a"}`, `{"re":"1"}`}},
		{"{\"a\":1}\r\n\n  \n{\"b\":\"x\\ny\"}\n", []string{`{"a":1}`, `{"b":"x\ny"}`}},
		{"", nil},
		{"\n\n", nil},
	} {
		var got []string
		splitFrame([]byte(tc.in), func(obj []byte) { got = append(got, string(obj)) })
		if !slices.Equal(got, tc.want) {
			t.Errorf("splitFrame(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestEncodeRequest(t *testing.T) {
	f, err := marshalFields(sendFields{ConversationID: 7, ClientMsgID: "c-1", Text: "hi \"you\"\n"})
	if err != nil {
		t.Fatal(err)
	}
	got := encodeRequest("send", "a1", f)
	var v map[string]any
	if err := json.Unmarshal(got, &v); err != nil {
		t.Fatalf("%s: %v", got, err)
	}
	if v["op"] != "send" || v["id"] != "a1" || v["conversation_id"] != 7.0 || v["text"] != "hi \"you\"\n" {
		t.Fatalf("decoded %v", v)
	}
	for _, fields := range []any{nil, struct{}{}, map[string]int{}} {
		f, err := marshalFields(fields)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(encodeRequest("ping", "2", f)); got != `{"op":"ping","id":"2"}` {
			t.Errorf("fields %#v: %s", fields, got)
		}
	}
	if _, err := marshalFields([]int{1}); !errors.Is(err, errFieldsNotObject) {
		t.Errorf("array fields: err = %v", err)
	}
	if got := string(syncRequest("3", map[int64]Cursor{7: {Seq: 40, Mod: 44}})); got != `{"op":"sync","id":"3","cursors":{"7":{"seq":40,"mod":44}}}` {
		t.Errorf("sync request %s", got)
	}
}

func TestInboundDecodesEveryKind(t *testing.T) {
	var in inbound
	raw := `{"ev":"sync","conversation":{"id":7,"kind":"group","last_seq":42,"last_mod":45,"role":"owner"},` +
		`"messages":[{"id":1,"conversation_id":7,"seq":41,"mod":43,"sender_id":1,"sender":{"id":1,"username":"a"},"kind":"text","text":"x","created_at":"2026-01-02T03:04:05.123456Z"}],` +
		`"changes":[],"members":[{"conversation_id":7,"user_id":1,"delivered_seq":40,"read_seq":38}],"has_more":true}`
	if err := json.Unmarshal([]byte(raw), &in); err != nil {
		t.Fatal(err)
	}
	if in.Ev != "sync" || in.Conversation.ID != 7 || in.Conversation.Role != "owner" || len(in.Messages) != 1 ||
		in.Messages[0].Seq != 41 || !in.HasMore || in.Members[0].DeliveredSeq != 40 ||
		!in.Messages[0].CreatedAt.Equal(time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)) {
		t.Fatalf("decoded %+v", in)
	}
	in = inbound{}
	if err := json.Unmarshal([]byte(`{"re":"5","ok":false,"error":{"code":"rate_limited","message":"slow down"}}`), &in); err != nil {
		t.Fatal(err)
	}
	if e := toError(in.Error, 0); e.Code != "rate_limited" || !retryable(e) {
		t.Fatalf("error %+v", e)
	}
}
