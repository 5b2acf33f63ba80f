package ws_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"

	"parley/app"
	"parley/servertest"
)

// fuzzSeeds are frames for FuzzOps: every operation, valid and not, and
// request ids and cursors of every shape. %d is a conversation of the user.
var fuzzSeeds = []string{
	`{"op":"ping","id":"1"}`,
	`{"op":"ping","id":7}`,
	`{"op":"ping","id":-1.5e300}`,
	`{"op":"ping","id":{"a":[1]}}`,
	`{"op":"ping","id":"\u0001\u001f\u007f\u2028<>&"}`,
	`{"op":"ping","id":"\"\\"}`,
	`{"op":"ping","id":null}`,
	`{"op":"ping"}`,
	`{"op":"send","id":"s","conversation_id":%d,"client_msg_id":"fz-1","text":"hello"}`,
	`{"op":"send","id":"s","conversation_id":%d,"client_msg_id":"fz-1","text":"other"}`,
	`{"op":"send","id":"s","conversation_id":-1,"client_msg_id":"x","text":"hi"}`,
	`{"op":"send","id":"s","conversation_id":1e30,"client_msg_id":"x","text":"hi"}`,
	`{"op":"send","id":"s","conversation_id":"1","client_msg_id":"x","text":"hi"}`,
	`{"op":"sync","id":"y","cursors":{}}`,
	`{"op":"sync","id":"y","cursors":{"%d":1}}`,
	`{"op":"sync","id":"y","cursors":{"%d":{"seq":1,"mod":1}}}`,
	`{"op":"sync","id":"y","cursors":{"%d":{"seq":-1}}}`,
	`{"op":"sync","id":"y","cursors":{"x":1}}`,
	`{"op":"sync","id":"y","cursors":{"%d":"1"}}`,
	`{"op":"sync","id":"y","cursors":{"%d":{"seq":1,"mod":1,"more":2}}}`,
	`{"op":"sync","id":"y","cursors":{"%d":1.5}}`,
	`{"op":"sync","id":"y","cursors":{"9223372036854775808":1}}`,
	`{"op":"sync","id":"y","cursors":[1,2]}`,
	`{"op":"receipt","id":"r","conversation_id":%d,"delivered_seq":1,"read_seq":1}`,
	`{"op":"receipt","id":"r","conversation_id":%d,"read_seq":9223372036854775807}`,
	`{"op":"typing","id":"t","conversation_id":%d,"active":true}`,
	`{"op":"edit","id":"e","conversation_id":%d,"seq":2,"text":"edited"}`,
	`{"op":"delete","id":"d","conversation_id":%d,"seq":99}`,
	`{"op":"call_invite","id":"c","conversation_id":%d,"media":"video","sdp":"v=0"}`,
	`{"op":"call_ice","id":"c","call_id":"x","candidate":{"candidate":"candidate:1","sdpMid":null}}`,
	`{"op":"nope","id":"n"}`,
	`{"op":"","id":"n"}`,
	`{"op":1}`,
	`[]`, `null`, `{`, ``, `"op"`, "\xff", `{"op":"ping","id":"\ud800"}`, `{"op":"send","id":"s","text":"\u0000"}`,
}

// FuzzOps sends any text frame to a live connection (a real node on
// SQLite, over loopback): the node answers each with exactly the frames a
// client can parse (every line valid JSON, valid UTF-8), never closes the
// connection for it but with a documented code, and never fails with an
// internal error. The seeds run with go test.
func FuzzOps(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	srv := servertest.Start(f, servertest.WithConfig(func(c *app.Config) {
		c.Realtime.OpsPerSecond, c.Realtime.OpsBurst = 1e6, 1<<20
	}))
	token, gid, err := fuzzSetup(srv.URL)
	if err != nil {
		f.Fatal(err)
	}
	var conn *websocket.Conn
	f.Cleanup(func() {
		if conn != nil {
			conn.CloseNow()
		}
	})
	f.Fuzz(func(t *testing.T, frame []byte) {
		frame = bytes.ReplaceAll(frame, []byte("%d"), []byte(fmt.Sprint(gid)))
		if conn == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/api/v1/ws",
				&websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + token}}})
			cancel()
			if err != nil {
				t.Fatal(err)
			}
			c.SetReadLimit(64 << 20)
			conn = c
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := conn.Write(ctx, websocket.MessageText, frame); err != nil {
			t.Fatalf("write %q: %v", frame, err)
		}
		for {
			_, data, err := conn.Read(ctx)
			if err != nil {
				conn.CloseNow()
				conn = nil
				var ce websocket.CloseError
				if errors.As(err, &ce) && (ce.Code == websocket.StatusMessageTooBig || ce.Code == websocket.StatusInvalidFramePayloadData) {
					return // frame too large; text that is not UTF-8, for a strict library
				}
				t.Fatalf("frame %q: connection ended: %v", frame, err)
			}
			reply := false
			for _, line := range bytes.Split(data, []byte("\n")) {
				if !utf8.Valid(line) || !json.Valid(line) {
					t.Fatalf("frame %q: the node sent %q, which is not valid JSON", frame, line)
				}
				var r struct {
					Re    *json.RawMessage `json:"re"`
					Error struct {
						Code string `json:"code"`
					} `json:"error"`
				}
				json.Unmarshal(line, &r)
				if r.Error.Code == "internal" {
					t.Fatalf("frame %q: %s", frame, line)
				}
				reply = reply || r.Re != nil
			}
			if reply {
				return
			}
		}
	})
}

// fuzzSetup signs up and logs in a user with a group holding one message,
// over REST, and returns the token and the group's id.
func fuzzSetup(base string) (string, int64, error) {
	do := func(token, path string, body any, out any) error {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", base+path, bytes.NewReader(b))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		if res.StatusCode >= 300 {
			return fmt.Errorf("POST %s: %d", path, res.StatusCode)
		}
		return json.NewDecoder(res.Body).Decode(out)
	}
	var login struct {
		Token string `json:"token"`
	}
	var group struct {
		Conversation struct {
			ID int64 `json:"id"`
		} `json:"conversation"`
	}
	err := errors.Join(
		do("", "/api/v1/auth/signup", map[string]string{"username": "fuzz", "email": "fuzz@example.com", "password": "password-fuzz"}, &struct{}{}),
		do("", "/api/v1/auth/login", map[string]string{"login": "fuzz", "password": "password-fuzz"}, &login),
	)
	if err == nil {
		err = do(login.Token, "/api/v1/groups", map[string]string{"name": "Fuzz"}, &group)
	}
	if err == nil {
		err = do(login.Token, fmt.Sprintf("/api/v1/conversations/%d/messages", group.Conversation.ID),
			map[string]string{"client_msg_id": "first", "text": "first"}, &struct{}{})
	}
	return login.Token, group.Conversation.ID, err
}
