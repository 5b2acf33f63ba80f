package calls_test

import (
	"encoding/json"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"parley/calls"
)

// newPeerConnection is a WebRTC peer with host candidates on loopback only:
// no STUN, no TURN, nothing outside the machine.
func newPeerConnection(t *testing.T) *webrtc.PeerConnection {
	t.Helper()
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	pc, err := webrtc.NewAPI(webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc
}

// trickle sends a peer's ICE candidates as call_ice once the call id is
// known (the caller learns it from the invite's reply, the callee may send
// only after accepting), holding earlier ones.
type trickle struct {
	p       *peer
	mu      sync.Mutex
	callID  string
	pending []webrtc.ICECandidateInit
	sent    int
}

func newTrickle(p *peer, pc *webrtc.PeerConnection) *trickle {
	tr := &trickle{p: p}
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c == nil {
			return // gathering complete
		}
		tr.mu.Lock()
		defer tr.mu.Unlock()
		if tr.callID == "" {
			tr.pending = append(tr.pending, c.ToJSON())
			return
		}
		tr.sendLocked(c.ToJSON())
	})
	return tr
}

func (tr *trickle) start(callID string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.callID = callID
	for _, c := range tr.pending {
		tr.sendLocked(c)
	}
	tr.pending = nil
}

func (tr *trickle) sendLocked(c webrtc.ICECandidateInit) {
	tr.sent++
	tr.p.send("call_ice", map[string]any{"call_id": tr.callID, "candidate": c})
}

// addCandidates gives a peer connection the candidates relayed to p.
func addCandidates(t *testing.T, p *peer, pc *webrtc.PeerConnection, callID string) int {
	t.Helper()
	frames := p.take(callEv("ice", callID))
	for _, f := range frames {
		b, _ := json.Marshal(f["candidate"])
		var c webrtc.ICECandidateInit
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatalf("candidate %s: %v", b, err)
		}
		if err := pc.AddICECandidate(c); err != nil {
			t.Fatalf("%s: AddICECandidate(%s): %v", p.name, b, err)
		}
	}
	return len(frames)
}

// Two real WebRTC peers signal through Parley (offer in call_invite, answer
// in call_accept, trickle ICE with call_ice) and exchange data over a data
// channel.
func TestWebRTCPeersConnect(t *testing.T) {
	srv, alice, bob, conv := pairSetup(t, calls.Config{})
	a, b := dial(t, srv, alice), dial(t, srv, bob)

	caller, callee := newPeerConnection(t), newPeerConnection(t)
	connected := func(pc *webrtc.PeerConnection) chan struct{} {
		ch := make(chan struct{})
		var once sync.Once
		pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
			if s == webrtc.PeerConnectionStateConnected {
				once.Do(func() { close(ch) })
			}
		})
		return ch
	}
	callerUp, calleeUp := connected(caller), connected(callee)

	// The callee echoes what arrives on the data channel.
	callee.OnDataChannel(func(dc *webrtc.DataChannel) {
		dc.OnMessage(func(m webrtc.DataChannelMessage) { dc.SendText("echo: " + string(m.Data)) })
	})
	echo := make(chan string, 1)
	dc, err := caller.CreateDataChannel("chat", nil)
	if err != nil {
		t.Fatal(err)
	}
	dc.OnOpen(func() { dc.SendText("hello through parley") })
	dc.OnMessage(func(m webrtc.DataChannelMessage) {
		select {
		case echo <- string(m.Data):
		default:
		}
	})

	callerICE, calleeICE := newTrickle(a, caller), newTrickle(b, callee)
	offer, err := caller.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := caller.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	id := a.invite(conv, "audio", offer.SDP)
	callerICE.start(id)

	ring := b.await("ring", callEv("ring", id))
	if err := callee.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: ring["sdp"].(string)}); err != nil {
		t.Fatal(err)
	}
	answer, err := callee.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := callee.SetLocalDescription(answer); err != nil {
		t.Fatal(err)
	}
	b.ok("call_accept", map[string]any{"call_id": id, "sdp": answer.SDP})
	calleeICE.start(id)

	ans := a.await("answer", callEv("answer", id))
	if err := caller.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: ans["sdp"].(string)}); err != nil {
		t.Fatal(err)
	}

	// Relay candidates as they come until both are connected and the echo
	// is back.
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	got, relayed := "", 0
	callerOK, calleeOK := false, false
	for got == "" || !callerOK || !calleeOK {
		relayed += addCandidates(t, a, caller, id) + addCandidates(t, b, callee, id)
		select {
		case <-a.signal:
		case <-b.signal:
		case <-callerUp:
			callerOK, callerUp = true, nil
		case <-calleeUp:
			calleeOK, calleeUp = true, nil
		case got = <-echo:
		case <-deadline.C:
			t.Fatalf("not connected: caller %s, callee %s, %d candidates relayed", caller.ConnectionState(), callee.ConnectionState(), relayed)
		}
	}
	if got != "echo: hello through parley" {
		t.Fatalf("data channel: %q", got)
	}
	if relayed == 0 {
		t.Fatal("connected without relayed candidates")
	}
	for _, p := range []*peer{a, b} {
		for _, f := range p.take(func(m map[string]any) bool { return m["re"] != nil && m["ok"] != true }) {
			t.Errorf("%s: an operation failed: %v", p.name, f)
		}
	}

	a.ok("call_hangup", map[string]any{"call_id": id})
	if end := b.await("ended", callEv("ended", id)); end["reason"] != "hangup" {
		t.Fatalf("ended: %v", end)
	}
	b.await("message", callMessage("ended"))
	expectHistory(t, srv, alice, conv, "ended")
}
