package presence

import (
	"math"
	"slices"
	"testing"
)

func TestWireRoundTrip(t *testing.T) {
	sets := [][]int64{nil, {1}, {42, 7, 1 << 40, 3}, {math.MinInt64, -1, 0, math.MaxInt64}}
	for _, kind := range []byte{kindFull, kindHello} {
		for _, users := range sets {
			users = slices.Clone(users)
			m, ok, err := decode(encodeSet(kind, "node-a", users))
			if err != nil || !ok || m.kind != kind || m.node != "node-a" {
				t.Fatalf("decode(encodeSet(%d, %v)) = %+v, %v, %v", kind, users, m, ok, err)
			}
			slices.Sort(users)
			if !slices.Equal(m.users, users) && len(users) > 0 {
				t.Errorf("set %v came back as %v", users, m.users)
			}
		}
	}

	deltas := []delta{{1, true}, {-5, false}, {math.MaxInt64, true}}
	m, ok, err := decode(encodeDeltas("b", deltas))
	if err != nil || !ok || m.kind != kindDelta || m.node != "b" || !slices.Equal(m.deltas, deltas) {
		t.Errorf("deltas came back as %+v, %v, %v", m, ok, err)
	}

	m, ok, err = decode(encodeLeave("c"))
	if err != nil || !ok || m.kind != kindLeave || m.node != "c" {
		t.Errorf("leave came back as %+v, %v, %v", m, ok, err)
	}
}

// A 10,000-user heartbeat with dense ids stays near 1 byte per user.
func TestWireCompact(t *testing.T) {
	users := make([]int64, 10000)
	for i := range users {
		users[i] = int64(100000 + 3*i)
	}
	if n := len(encodeSet(kindFull, "node", users)); n > 10100 {
		t.Errorf("heartbeat of %d users takes %d bytes", len(users), n)
	}
}

func TestWireSkipsUnknown(t *testing.T) {
	for _, b := range [][]byte{{2, kindFull, 0, 0}, {wireVersion, 99, 1, 'x'}} {
		if _, ok, err := decode(b); ok || err != nil {
			t.Errorf("decode(%v) = ok %v, err %v; want skipped", b, ok, err)
		}
	}
}

// FuzzDecode checks that no input makes decode panic, and that what it
// accepts encodes to bytes that decode to the same message.
func FuzzDecode(f *testing.F) {
	f.Add(encodeSet(kindFull, "n1", []int64{1, 2, 300}))
	f.Add(encodeSet(kindHello, "n1", nil))
	f.Add(encodeDeltas("n2", []delta{{7, true}, {8, false}}))
	f.Add(encodeLeave("n3"))
	f.Add([]byte{wireVersion, kindFull, 0, 255, 255, 255, 255, 15})
	f.Add([]byte{wireVersion, kindDelta, 0, 1, 2, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, ok, err := decode(b)
		if err != nil || !ok {
			return
		}
		var again []byte
		switch m.kind {
		case kindFull, kindHello:
			again = encodeSet(m.kind, m.node, slices.Clone(m.users))
		case kindDelta:
			again = encodeDeltas(m.node, m.deltas)
		case kindLeave:
			again = encodeLeave(m.node)
		}
		m2, ok2, err2 := decode(again)
		if !ok2 || err2 != nil || m2.kind != m.kind || m2.node != m.node ||
			!slices.Equal(m2.users, m.users) || !slices.Equal(m2.deltas, m.deltas) {
			t.Fatalf("%+v re-encoded decodes as %+v, %v", m, m2, err2)
		}
	})
}
