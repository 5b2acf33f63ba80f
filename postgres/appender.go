package postgres

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"parley"
)

// Batching of appends.
//
// Every append waits for a commit, and all appends to one conversation queue
// on its row lock, so a busy conversation manages about one append per
// commit (an fsync). The appender commits concurrent appends together: a
// fixed number of committers take appends from one queue, each taking
// whatever has queued up while it was busy, and send them as one pipelined
// batch, one round trip and one transaction:
//
//	SELECT … FOR NO KEY UPDATE   -- each conversation of the batch, ascending id
//	WITH c AS (UPDATE …) …       -- appendSQL, once per append, in queue order
//	                             -- (implicit COMMIT at the end of the pipeline)
//
// Under light load each append is a batch of its own; under heavy load the
// batches grow. Locks are taken in ascending conversation id and before any
// member row, so batches cannot deadlock with each other or with the
// single-conversation transactions of the other methods.
//
// Each append sees the ones before it in the batch, so a client_msg_id
// resent within one batch is refused like any resend. If a statement fails
// (not a refusal, which is a row not returned, but an error, e.g. a system
// message by a user who does not exist), the transaction stores nothing and
// each append of the batch is retried in a batch of its own, so that the
// error reaches only its caller.

const (
	// maxBatch bounds the appends committed together.
	maxBatch = 256
	// batchTimeout bounds one batch's round trip and commit: callers wait
	// no longer than their own context, but a connection that hangs must
	// not keep a committer forever.
	batchTimeout = 30 * time.Second
)

type appendOp struct {
	ctx    context.Context
	nm     parley.NewMessage
	system []byte
	ups    []parley.Upload // nm.Attachments, read before the batch

	// Set by the committer before done is closed.
	msg     parley.Message
	created bool
	err     error
	done    chan struct{}
}

type appender struct {
	pool  *pgxpool.Pool
	queue chan *appendOp
	quit  chan struct{}
	stop  sync.Once
	wg    sync.WaitGroup
}

func newAppender(pool *pgxpool.Pool, committers int) *appender {
	a := &appender{
		pool:  pool,
		queue: make(chan *appendOp),
		quit:  make(chan struct{}),
	}
	for range committers {
		a.wg.Go(a.run)
	}
	return a
}

// close stops the committers after their current batch. It may be called
// more than once.
func (a *appender) close() {
	a.stop.Do(func() { close(a.quit) })
	a.wg.Wait()
}

// append queues op and waits for its outcome, its context, or close.
func (a *appender) append(op *appendOp) (parley.Message, bool, error) {
	op.done = make(chan struct{})
	select {
	case a.queue <- op:
	case <-op.ctx.Done():
		return parley.Message{}, false, mapError(op.ctx.Err())
	case <-a.quit:
		return parley.Message{}, false, parley.ErrUnavailable
	}
	select {
	case <-op.done:
		return op.msg, op.created, op.err
	case <-op.ctx.Done():
		// The append may still commit; a resend will find it.
		return parley.Message{}, false, mapError(op.ctx.Err())
	case <-a.quit:
		return parley.Message{}, false, parley.ErrUnavailable
	}
}

func (a *appender) run() {
	for {
		var batch []*appendOp
		select {
		case op := <-a.queue:
			batch = append(batch, op)
		case <-a.quit:
			return
		}
	more:
		for len(batch) < maxBatch {
			select {
			case op := <-a.queue:
				batch = append(batch, op)
			default:
				break more
			}
		}
		a.commit(batch)
	}
}

// commit commits batch and finishes its ops.
func (a *appender) commit(batch []*appendOp) {
	live := batch[:0]
	for _, op := range batch {
		if err := op.ctx.Err(); err != nil {
			op.err = mapError(err)
			close(op.done)
			continue
		}
		live = append(live, op)
	}
	if len(live) == 0 {
		return
	}
	err := a.send(live)
	if err == nil {
		for _, op := range live {
			close(op.done)
		}
		return
	}
	if len(live) == 1 || isUnavailable(err) {
		for _, op := range live {
			op.msg, op.created, op.err = parley.Message{}, false, mapError(err)
			close(op.done)
		}
		return
	}
	// One append broke the transaction: find out whose it was.
	for _, op := range live {
		a.commit([]*appendOp{op})
	}
}

// send appends ops in one transaction and sets their outcomes; it returns
// the error that aborted the transaction, if one did.
func (a *appender) send(ops []*appendOp) error {
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()

	convs := make([]int64, 0, len(ops))
	for _, op := range ops {
		convs = append(convs, op.nm.ConversationID)
	}
	slices.Sort(convs)
	convs = slices.Compact(convs)

	var uploads []int64
	for _, op := range ops {
		uploads = append(uploads, op.nm.Attachments...)
	}
	slices.Sort(uploads)

	b := &pgx.Batch{}
	for _, id := range convs {
		b.Queue(lockSQL, id)
	}
	if len(uploads) > 0 {
		// After the conversations, as every transaction that locks both.
		b.Queue(lockUploadsSQL, uploads)
	}
	for _, op := range ops {
		b.Queue(appendSQL, appendArgs(op.nm, op.system, op.nm.Kind == parley.MessageSystem, op.ups)...)
	}
	br := a.pool.SendBatch(ctx, b)
	var (
		kind     string
		count    int
		firstErr error
	)
	keep := func(err error) {
		if firstErr == nil && err != nil && !errors.Is(err, pgx.ErrNoRows) {
			firstErr = err
		}
	}
	for range convs {
		keep(br.QueryRow().Scan(&kind, &count))
	}
	if len(uploads) > 0 {
		_, err := br.Exec()
		keep(err)
	}
	refused := make([]bool, len(ops))
	for i, op := range ops {
		msg, err := scanAppended(br.QueryRow(), op.nm, op.ups)
		keep(err)
		op.msg, op.created, refused[i] = msg, err == nil, errors.Is(err, pgx.ErrNoRows)
	}
	keep(br.Close()) // the commit: nothing is acknowledged before it
	if firstErr != nil {
		var pgErr *pgconn.PgError
		if errors.As(firstErr, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == clientMsgIDKey && len(ops) == 1 {
			// Not expected under the lock; the unique index is the last
			// line of defence, and its answer is that of a resend.
			refused[0] = true
		} else {
			return firstErr
		}
	}
	for i, op := range ops {
		if refused[i] {
			op.msg, op.created, op.err = a.original(op)
		}
	}
	return nil
}

// original returns the message a refused append resent; if there is none,
// the refusal's reason: ENOTACCEPTING (a direct chat whose other member
// does not accept messages or blocks the sender: the same answer) or ENOTFOUND (the conversation does not exist,
// or the sender of a text message is not a member).
func (a *appender) original(op *appendOp) (parley.Message, bool, error) {
	nm := op.nm
	if nm.ClientMsgID == "" || nm.SenderID == 0 {
		return parley.Message{}, false, parley.ErrNotFound
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(op.ctx), batchTimeout)
	defer cancel()
	// Membership comes before the resend lookup: someone removed learns
	// nothing more, a resend of theirs included.
	var member bool
	if err := a.pool.QueryRow(ctx, `SELECT EXISTS (SELECT FROM members WHERE conversation_id = $1 AND user_id = $2)`,
		nm.ConversationID, nm.SenderID).Scan(&member); err != nil {
		return parley.Message{}, false, mapError(err)
	}
	if !member {
		return parley.Message{}, false, parley.ErrNotFound
	}
	m, err := scanMessage(a.pool.QueryRow(ctx, selectMessage+
		`WHERE m.conversation_id = $1 AND m.sender_id = $2 AND m.client_msg_id = $3`,
		nm.ConversationID, nm.SenderID, nm.ClientMsgID))
	if err == nil {
		ms := []parley.Message{m}
		err = fillReplies(ctx, a.pool, ms)
		return ms[0], false, err
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return parley.Message{}, false, mapError(err)
	}
	var peer string
	err = a.pool.QueryRow(ctx, `
		SELECT u.username FROM conversations c
		JOIN members mb ON mb.conversation_id = c.id AND mb.user_id = $2
		JOIN users u ON u.id = CASE WHEN c.direct_lo = $2 THEN c.direct_hi ELSE c.direct_lo END
		WHERE c.id = $1 AND c.kind = 'direct' AND (NOT u.accepting_messages
			OR EXISTS (SELECT FROM blocks WHERE blocker_id = u.id AND blocked_id = $2))`,
		nm.ConversationID, nm.SenderID).Scan(&peer)
	if err == nil {
		return parley.Message{}, false, parley.Errorf(parley.ENOTACCEPTING, "%s is not accepting messages.", peer)
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return parley.Message{}, false, mapError(err)
	}
	if nm.ReplyTo != 0 {
		var last int64
		if err := a.pool.QueryRow(ctx, `SELECT last_seq FROM conversations WHERE id = $1`, nm.ConversationID).Scan(&last); err != nil {
			return parley.Message{}, false, mapError(err)
		}
		if nm.ReplyTo < 0 || nm.ReplyTo > last {
			return parley.Message{}, false, parley.ErrBadReplyTo
		}
	}
	if len(nm.Attachments) > 0 {
		// A member's message refused for none of the above: its
		// attachments were taken (another's, or attached already).
		var member bool
		err = a.pool.QueryRow(ctx, `SELECT EXISTS (SELECT FROM members WHERE conversation_id = $1 AND user_id = $2)`,
			nm.ConversationID, nm.SenderID).Scan(&member)
		if err != nil {
			return parley.Message{}, false, mapError(err)
		}
		if member {
			return parley.Message{}, false, parley.ErrBadAttachments
		}
	}
	return parley.Message{}, false, parley.ErrNotFound
}
