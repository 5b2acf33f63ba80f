package postgres

import (
	"context"

	"parley"
)

// AppendBatch commits nms as one batch of the appender, as if they had
// queued up together, and returns each outcome.
func AppendBatch(ctx context.Context, s *Store, nms ...parley.NewMessage) ([]parley.Message, []bool, []error) {
	ops := make([]*appendOp, len(nms))
	for i, nm := range nms {
		system, err := prepareNew(&nm)
		if err != nil {
			panic(err)
		}
		ops[i] = &appendOp{ctx: ctx, nm: nm, system: system, done: make(chan struct{})}
	}
	s.appender.commit(ops)
	msgs, created, errs := make([]parley.Message, len(ops)), make([]bool, len(ops)), make([]error, len(ops))
	for i, op := range ops {
		<-op.done
		msgs[i], created[i], errs[i] = op.msg, op.created, op.err
	}
	return msgs, created, errs
}

// SetSearchWalk sets the bounds of the search walk (search.go) until the
// test ends.
func SetSearchWalk(t interface{ Cleanup(func()) }, first, most, share int64) {
	f, m, s := walkFirst, walkMax, walkShare
	t.Cleanup(func() { walkFirst, walkMax, walkShare = f, m, s })
	walkFirst, walkMax, walkShare = first, most, share
}

// WaitSearchIndex waits until the store's check (or build) of the search
// index that Open started is over.
func WaitSearchIndex(s *Store) { s.bg.Wait() }
