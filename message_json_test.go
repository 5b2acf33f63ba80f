package parley

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

func checkJSON(t *testing.T, what string, m Message) {
	t.Helper()
	want, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	got := m.AppendJSON(nil)
	if !bytes.Equal(got, want) {
		t.Fatalf("%s:\n got %s\nwant %s", what, got, want)
	}
}

// fill sets v (addressable) to a value that is not its zero value.
func fill(t *testing.T, v reflect.Value) {
	switch v.Kind() {
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(-42)
	case reflect.String:
		v.SetString("a <b> & \"c\"\n\u2028é\x01")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Float64:
		v.SetFloat(-4.25)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(t, v.Elem())
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		fill(t, v.Index(0))
		fill(t, v.Index(1))
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2026, 12, 6, 3, 4, 5, 123456000, time.UTC)))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(t, v.Field(i))
			}
		}
	default:
		t.Fatalf("fill: a field of kind %s: teach fill and Message.AppendJSON about it", v.Kind())
	}
}

// TestMessageJSONEveryField: each field of Message (and of what it points
// to), set alone and all together, encodes as encoding/json would. A field
// added to Message fails here until AppendJSON writes it.
func TestMessageJSONEveryField(t *testing.T) {
	typ := reflect.TypeFor[Message]()
	var all Message
	fill(t, reflect.ValueOf(&all).Elem())
	checkJSON(t, "every field set", all)
	checkJSON(t, "zero message", Message{})
	for i := range typ.NumField() {
		var m Message
		fill(t, reflect.ValueOf(&m).Elem().Field(i))
		checkJSON(t, "field "+typ.Field(i).Name, m)
	}
	sys := all
	sys.System = &SystemInfo{Event: SysJoined}
	checkJSON(t, "system info with its omitted fields", sys)
}

// FuzzMessageJSON: any text, names and ids encode as encoding/json would.
func FuzzMessageJSON(f *testing.F) {
	f.Add("hello", "alice", "c-1", int64(1), int64(7))
	f.Add("<script>&amp;\u2028\u2029\x00\x7f", "bob\xff", "\"\\", int64(-1), int64(1<<62))
	f.Add("\xed\xa0\x80 emoji 😀 \t\r\n\b\f", "", "", int64(0), int64(0))
	f.Fuzz(func(t *testing.T, text, name, cid string, id, nanos int64) {
		ts := time.Unix(0, nanos%(1<<60)).UTC()
		m := Message{ID: id, ConversationID: 3, Seq: id, SenderID: 2, Sender: &UserRef{ID: 2, Username: name, DisplayName: text},
			ClientMsgID: cid, Kind: MessageText, Text: text, CreatedAt: ts, EditedAt: &ts, Mentions: []int64{id}}
		checkJSON(t, "fuzzed message", m)
	})
}

// Durations encode as encoding/json writes floats, small and large.
func TestMessageJSONDurations(t *testing.T) {
	for _, d := range []float64{3.25, 0.1, 1e-7, 123456.789, 86400, 1e21, 2.5e-9, -0.000001} {
		checkJSON(t, "duration", Message{Attachments: []Attachment{{ID: 1, Duration: d, URL: "/u"}}})
	}
}
