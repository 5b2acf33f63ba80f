package service

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"parley"
	"parley/media"
)

// Defaults of FilesConfig (the flags of `parley serve` use them).
const (
	DefaultMaxUpload      = 25 << 20
	DefaultUploadQuota    = 1 << 30
	DefaultMaxAttachments = 10
	DefaultImageWorkers   = 2
	DefaultOrphanSweep    = 10 * time.Minute
)

// Limits of what a client says about an upload.
const (
	UploadNameMax   = 255         // bytes of a file name (longer names are cut)
	UploadDimMax    = 100_000     // pixels, width or height of a video
	UploadDurMax    = 24 * 3600.0 // seconds of audio or video
	thumbQueue      = 1024        // thumbnails waiting for a worker; more are made when first asked for
	reapBatch       = 100         // blobs leased per round of the reaper
	reapLease       = 30 * time.Second
	orphanBatch     = 500
	busyRetryFor    = 10 * time.Second
	busyRetryPeriod = 50 * time.Millisecond
)

// FilesConfig holds the settings of uploads. Zero values mean the defaults
// written on each field.
type FilesConfig struct {
	// MaxUpload bounds one file, in bytes. Zero value means 25 MiB.
	MaxUpload int64
	// Quota bounds the bytes of one user's uploads. Zero value means 1 GiB.
	Quota int64
	// MaxAttachments bounds the files of one message. Zero value means 10.
	MaxAttachments int
	// MaxPixels bounds an image's width × height. Zero value means 50
	// megapixels.
	MaxPixels int64
	// ImageWorkers is how many images are decoded at once (thumbnails,
	// avatars), which bounds the memory they take. Zero value means 2.
	ImageWorkers int
	// TempDir holds uploads while they arrive. Zero value means the
	// system's temporary folder.
	TempDir string
	// OrphanSweep is how often uploads never attached are looked for.
	// Zero value means 10 minutes.
	OrphanSweep time.Duration
}

func (c FilesConfig) withDefaults() FilesConfig {
	if c.MaxUpload == 0 {
		c.MaxUpload = DefaultMaxUpload
	}
	if c.Quota == 0 {
		c.Quota = DefaultUploadQuota
	}
	if c.MaxAttachments == 0 {
		c.MaxAttachments = DefaultMaxAttachments
	}
	if c.MaxPixels == 0 {
		c.MaxPixels = media.DefaultMaxPixels
	}
	if c.ImageWorkers == 0 {
		c.ImageWorkers = DefaultImageWorkers
	}
	if c.TempDir == "" {
		c.TempDir = os.TempDir()
	}
	if c.OrphanSweep == 0 {
		c.OrphanSweep = DefaultOrphanSweep
	}
	return c
}

// filesStore is the part of the store Files uses: uploads, and who owns a
// photo.
type filesStore interface {
	parley.UploadStore
	User(ctx context.Context, id int64) (parley.User, error)
	Conversation(ctx context.Context, id int64) (parley.Conversation, error)
}

// Files is the attachments side of the service: uploads, downloads,
// thumbnails, profile and group photos, over a parley.Blobs.
//
// Goroutines: ImageWorkers thumbnail workers, the reaper (which deletes the
// bytes of blobs nothing uses any more) and the orphan sweeper, all stopped
// and waited for by Close. Image decoding, in the workers and on request
// (a thumbnail asked for before a worker made it, an avatar), takes one of
// ImageWorkers slots, so that at most that many images are in memory.
type Files struct {
	svc   *Service
	store filesStore
	blobs parley.Blobs
	cfg   FilesConfig
	log   *slog.Logger

	slots  chan struct{}      // image decodes in flight
	thumbs chan parley.Upload // background thumbnail jobs
	kick   chan struct{}      // wakes the reaper

	mu       sync.Mutex
	inflight map[int64]*thumbCall // thumbnails being made, by upload id

	stop   context.CancelFunc
	ctx    context.Context
	wg     sync.WaitGroup
	closed sync.Once
}

type thumbCall struct {
	done chan struct{}
	u    parley.Upload
	err  error
}

// NewFiles starts the attachments side of svc, storing bytes in blobs.
func NewFiles(svc *Service, blobs parley.Blobs, cfg FilesConfig) (*Files, error) {
	cfg = cfg.withDefaults()
	if err := os.MkdirAll(cfg.TempDir, 0o700); err != nil {
		return nil, fmt.Errorf("upload temp dir: %w", err)
	}
	ctx, stop := context.WithCancel(context.Background())
	f := &Files{svc: svc, store: svc.store, blobs: blobs, cfg: cfg, log: svc.log,
		slots: make(chan struct{}, cfg.ImageWorkers), thumbs: make(chan parley.Upload, thumbQueue),
		kick: make(chan struct{}, 1), inflight: make(map[int64]*thumbCall), ctx: ctx, stop: stop}
	svc.files = f
	for range cfg.ImageWorkers {
		f.wg.Go(f.thumbWorker)
	}
	f.wg.Go(f.reaper)
	f.wg.Go(f.sweeper)
	return f, nil
}

// Config returns the settings in force.
func (f *Files) Config() FilesConfig { return f.cfg }

// FileLimits are the limits a client needs before it uploads (GET
// /api/v1/features, "files").
type FileLimits struct {
	MaxUpload      int64 `json:"max_upload"`
	MaxAttachments int   `json:"max_attachments"`
	MaxPixels      int64 `json:"max_image_pixels"`
}

// Limits returns the limits clients are told.
func (f *Files) Limits() FileLimits {
	return FileLimits{MaxUpload: f.cfg.MaxUpload, MaxAttachments: f.cfg.MaxAttachments, MaxPixels: f.cfg.MaxPixels}
}

// Close stops the workers and waits for them.
func (f *Files) Close() {
	f.closed.Do(func() {
		f.stop()
		f.wg.Wait()
	})
}

// UploadMeta is what a client says about a file it uploads.
type UploadMeta struct {
	// Name is the file's name (its folders are dropped).
	Name string
	// Type is the content type the client declares: only a hint to tell
	// audio from video in one container.
	Type string
	// Length is the body's length when known (-1 if not): a body longer
	// than the limit is refused before it is read.
	Length int64
	// Width, Height (video) and Duration (audio, video, in seconds) as the
	// client measured them; ignored for other files.
	Width, Height int
	Duration      float64
}

// Upload stores a file streamed from body for userID: it is written to a
// temporary file (never held in memory), identified from its bytes, checked
// (size, pixels), stripped of metadata if it is an image, and stored as a
// blob. The upload waits to be attached to a message for UploadTTL.
func (f *Files) Upload(ctx context.Context, userID int64, body io.Reader, meta UploadMeta) (parley.Upload, error) {
	name, err := cleanName(meta.Name)
	if err != nil {
		return parley.Upload{}, err
	}
	if meta.Duration < 0 || meta.Duration > UploadDurMax || meta.Width < 0 || meta.Width > UploadDimMax ||
		meta.Height < 0 || meta.Height > UploadDimMax {
		return parley.Upload{}, parley.FieldErrorf("duration", "duration must be 0 to %.0f seconds, width and height 0 to %d.", UploadDurMax, UploadDimMax)
	}
	if meta.Length > f.cfg.MaxUpload {
		return parley.Upload{}, f.tooLarge()
	}
	if meta.Length > 0 {
		used, err := f.store.UploadUsage(ctx, userID)
		if err != nil {
			return parley.Upload{}, err
		}
		if used+meta.Length > f.cfg.Quota {
			return parley.Upload{}, parley.ErrQuota
		}
	}
	sp, err := f.spool(body)
	if err != nil {
		return parley.Upload{}, err
	}
	defer sp.remove()

	u := parley.Upload{OwnerID: userID, Name: name, Key: sp.key, Size: sp.size,
		ContentType: media.Sniff(sp.head, meta.Type)}
	switch {
	case parley.IsImage(u.ContentType):
		if _, err := sp.f.Seek(0, io.SeekStart); err != nil {
			return parley.Upload{}, err
		}
		info, err := media.Inspect(sp.f, u.ContentType, f.cfg.MaxPixels)
		if err != nil {
			return parley.Upload{}, err
		}
		u.Width, u.Height = info.Width, info.Height
		if err := f.strip(sp, u.ContentType); err != nil {
			return parley.Upload{}, err
		}
		u.Key, u.Size = sp.key, sp.size
	case media.IsAudioVideo(u.ContentType):
		u.Duration = float64(int64(meta.Duration*1000)) / 1000
		if strings.HasPrefix(u.ContentType, "video/") {
			u.Width, u.Height = meta.Width, meta.Height
		}
	}
	err = f.retryBusy(ctx, func() error { return f.store.CreateUpload(ctx, &u, f.cfg.Quota, f.svc.Now()) })
	if err != nil {
		return parley.Upload{}, err
	}
	if err := f.ensureBlob(ctx, u.Key, sp.f, u.Size); err != nil {
		if derr := f.store.DeleteUpload(context.WithoutCancel(ctx), userID, u.ID); derr != nil {
			f.log.Warn("forget an upload whose bytes were not stored", "upload", u.ID, "err", derr)
		}
		f.wake()
		return parley.Upload{}, err
	}
	if parley.IsImage(u.ContentType) {
		select {
		case f.thumbs <- u:
		default: // made when first asked for
		}
	}
	return u, nil
}

func (f *Files) tooLarge() error {
	return &parley.Error{Code: parley.ETOOLARGE, Field: "file",
		Message: fmt.Sprintf("A file may be at most %s.", humanBytes(f.cfg.MaxUpload))}
}

// cleanName keeps a file name's last path element, without control
// characters, cut to UploadNameMax bytes.
func cleanName(name string) (string, error) {
	if !utf8.ValidString(name) {
		return "", parley.FieldErrorf("name", "The file name must be valid UTF-8.")
	}
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == 0x7f {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	for len(name) > UploadNameMax {
		_, n := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-n]
	}
	if name == "" || name == "." || name == ".." {
		name = "file"
	}
	return name, nil
}

// spooled is an upload's bytes in a temporary file.
type spooled struct {
	f    *os.File
	key  string // SHA-256 in hex
	size int64
	head []byte // the first media.SniffLen bytes
}

func (s *spooled) remove() {
	s.f.Close()
	os.Remove(s.f.Name())
}

// hashWriter copies to a file, hashing and keeping the first bytes.
type hashWriter struct {
	w    io.Writer
	h    hash.Hash
	n    int64
	head []byte
}

func (hw *hashWriter) Write(p []byte) (int, error) {
	if len(hw.head) < media.SniffLen {
		hw.head = append(hw.head, p[:min(len(p), media.SniffLen-len(hw.head))]...)
	}
	n, err := hw.w.Write(p)
	hw.h.Write(p[:n])
	hw.n += int64(n)
	return n, err
}

// spool writes body to a temporary file, refusing more than MaxUpload
// bytes.
func (f *Files) spool(body io.Reader) (*spooled, error) {
	tmp, err := os.CreateTemp(f.cfg.TempDir, "upload-*")
	if err != nil {
		return nil, fmt.Errorf("%w: %w", parley.ErrUnavailable, err)
	}
	sp := &spooled{f: tmp}
	hw := &hashWriter{w: tmp, h: sha256.New()}
	_, err = io.Copy(hw, io.LimitReader(body, f.cfg.MaxUpload+1))
	sp.key, sp.size, sp.head = hex.EncodeToString(hw.h.Sum(nil)), hw.n, hw.head
	switch {
	case err != nil:
		sp.remove()
		var pe *parley.Error
		if errors.As(err, &pe) {
			return nil, err
		}
		return nil, parley.Errorf(parley.EINVALID, "The upload was interrupted.")
	case sp.size > f.cfg.MaxUpload:
		sp.remove()
		return nil, f.tooLarge()
	}
	return sp, nil
}

// strip replaces an image's bytes by the same image without metadata, if
// it had any.
func (f *Files) strip(sp *spooled, contentType string) error {
	if _, err := sp.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	out, err := os.CreateTemp(f.cfg.TempDir, "strip-*")
	if err != nil {
		return fmt.Errorf("%w: %w", parley.ErrUnavailable, err)
	}
	hw := &hashWriter{w: out, h: sha256.New()}
	changed, err := media.Strip(hw, sp.f, contentType)
	if err != nil || !changed {
		out.Close()
		os.Remove(out.Name())
		return err
	}
	sp.remove()
	sp.f, sp.key, sp.size, sp.head = out, hex.EncodeToString(hw.h.Sum(nil)), hw.n, hw.head
	return nil
}

// ensureBlob stores the bytes of key (size bytes from r, read from its
// start) unless the storage has them.
func (f *Files) ensureBlob(ctx context.Context, key string, r io.ReadSeeker, size int64) error {
	if _, err := f.blobs.Stat(ctx, key); err == nil {
		return nil
	} else if parley.ErrorCode(err) != parley.ENOTFOUND {
		return err
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return err
	}
	return f.blobs.Put(ctx, key, r, size)
}

// retryBusy runs fn until it does not fail with ErrBlobBusy (a blob being
// deleted), for at most busyRetryFor, waking the reaper meanwhile.
func (f *Files) retryBusy(ctx context.Context, fn func() error) error {
	deadline := time.Now().Add(busyRetryFor)
	for {
		err := fn()
		if !errors.Is(err, parley.ErrBlobBusy) || time.Now().After(deadline) {
			return err
		}
		f.wake()
		t := time.NewTimer(busyRetryPeriod)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// checkAttachments checks the upload ids a message attaches: at most
// MaxAttachments, each once. Whether they are the sender's is the store's
// to check, in the append's transaction.
func (s *Service) checkAttachments(ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	if s.files == nil {
		return parley.FieldErrorf("attachments", "This server takes no attachments.")
	}
	if max := s.files.cfg.MaxAttachments; len(ids) > max {
		return parley.FieldErrorf("attachments", "A message may carry at most %d files.", max)
	}
	for i, id := range ids {
		if id <= 0 || slices.Contains(ids[:i], id) {
			return parley.ErrBadAttachments
		}
	}
	return nil
}

// DeleteUpload deletes one of the user's uploads not yet attached (an
// upload cancelled in the composer).
func (f *Files) DeleteUpload(ctx context.Context, userID, id int64) error {
	if err := f.store.DeleteUpload(ctx, userID, id); err != nil {
		return err
	}
	f.wake()
	return nil
}

// Attachment returns an upload the user may fetch: one attached to a
// message of a conversation they are a member of now, or one of their own
// not yet attached. Anything else is ErrNotFound, the answer for an upload
// that does not exist. The check is made on every fetch.
func (f *Files) Attachment(ctx context.Context, userID, id int64) (parley.Upload, error) {
	if id <= 0 {
		return parley.Upload{}, parley.ErrNotFound
	}
	u, err := f.store.Upload(ctx, id)
	if err != nil {
		return parley.Upload{}, err
	}
	if u.MessageID == 0 {
		if u.OwnerID != userID {
			return parley.Upload{}, parley.ErrNotFound
		}
		return u, nil
	}
	if _, err := f.svc.member(ctx, u.ConversationID, userID); err != nil {
		return parley.Upload{}, err
	}
	return u, nil
}

// Open opens a blob for reading.
func (f *Files) Open(ctx context.Context, key string) (parley.Blob, error) {
	return f.blobs.Open(ctx, key)
}

// Thumbnail opens the thumbnail of an attachment the user may fetch (see
// Attachment), making it now if no worker has yet, and returns its key.
func (f *Files) Thumbnail(ctx context.Context, userID, id int64) (parley.Blob, string, error) {
	u, err := f.Attachment(ctx, userID, id)
	if err != nil {
		return nil, "", err
	}
	if !parley.IsImage(u.ContentType) {
		return nil, "", parley.ErrNotFound
	}
	if u.ThumbKey != "" {
		b, err := f.blobs.Open(ctx, u.ThumbKey)
		if parley.ErrorCode(err) != parley.ENOTFOUND {
			return b, u.ThumbKey, err
		}
		// Recorded, but its bytes are not (yet) stored: make them again.
	}
	if u, err = f.thumbnail(ctx, u); err != nil {
		return nil, "", err
	}
	b, err := f.blobs.Open(ctx, u.ThumbKey)
	return b, u.ThumbKey, err
}

// thumbnail makes an upload's thumbnail once at a time per upload: callers
// that ask while it is being made wait for it.
func (f *Files) thumbnail(ctx context.Context, u parley.Upload) (parley.Upload, error) {
	f.mu.Lock()
	if c := f.inflight[u.ID]; c != nil {
		f.mu.Unlock()
		select {
		case <-c.done:
			return c.u, c.err
		case <-ctx.Done():
			return u, ctx.Err()
		}
	}
	c := &thumbCall{done: make(chan struct{})}
	f.inflight[u.ID] = c
	f.mu.Unlock()

	c.u, c.err = f.makeThumbnail(ctx, u)
	f.mu.Lock()
	delete(f.inflight, u.ID)
	f.mu.Unlock()
	close(c.done)
	return c.u, c.err
}

// makeThumbnail decodes the upload (in an image slot), records the
// thumbnail and stores its bytes.
func (f *Files) makeThumbnail(ctx context.Context, u parley.Upload) (parley.Upload, error) {
	var pic media.Picture
	err := f.decode(ctx, u.Key, func(r io.ReadSeeker) (err error) {
		pic, err = media.Thumbnail(r, u.ContentType, media.ThumbnailSide, f.cfg.MaxPixels)
		return err
	})
	if err != nil {
		return u, err
	}
	key := blobKey(pic.Data)
	got, err := f.retryBusyUpload(ctx, func() (parley.Upload, error) {
		return f.store.SetThumbnail(ctx, u.ID, key, int64(len(pic.Data)), f.svc.Now())
	})
	if err != nil {
		return u, err
	}
	if got.ThumbKey == key {
		if err := f.ensureBlob(ctx, key, bytes.NewReader(pic.Data), int64(len(pic.Data))); err != nil {
			return u, err
		}
	}
	return got, nil
}

func (f *Files) retryBusyUpload(ctx context.Context, fn func() (parley.Upload, error)) (parley.Upload, error) {
	var u parley.Upload
	err := f.retryBusy(ctx, func() (err error) {
		u, err = fn()
		return err
	})
	return u, err
}

// decode opens a blob and runs fn on it in an image slot.
func (f *Files) decode(ctx context.Context, key string, fn func(r io.ReadSeeker) error) error {
	select {
	case f.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-f.slots }()
	b, err := f.blobs.Open(ctx, key)
	if err != nil {
		return err
	}
	defer b.Close()
	return fn(b)
}

func blobKey(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// thumbWorker makes the thumbnails of new images.
func (f *Files) thumbWorker() {
	for {
		select {
		case <-f.ctx.Done():
			return
		case u := <-f.thumbs:
			ctx, cancel := context.WithTimeout(f.ctx, time.Minute)
			if _, err := f.thumbnail(ctx, u); err != nil && f.ctx.Err() == nil {
				f.log.Warn("thumbnail", "upload", u.ID, "err", err)
			}
			cancel()
		}
	}
}

// wake asks the reaper to run now.
func (f *Files) wake() {
	select {
	case f.kick <- struct{}{}:
	default:
	}
}

// reaper deletes the bytes of blobs nothing uses any more: when woken
// (after a release) and every minute (releases of other nodes, deletions a
// crash interrupted).
func (f *Files) reaper() {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-f.ctx.Done():
			return
		case <-f.kick:
		case <-t.C:
		}
		for f.ctx.Err() == nil {
			n, err := f.reap()
			if err != nil && f.ctx.Err() == nil {
				f.log.Warn("delete unused blobs", "err", err)
			}
			if err != nil || n < reapBatch {
				break
			}
		}
	}
}

// reap leases a batch of doomed blobs, deletes their bytes before the lease
// ends, and forgets those deleted. It returns how many it leased.
func (f *Files) reap() (int, error) {
	start := time.Now()
	now := f.svc.Now()
	until := now.Add(reapLease)
	keys, err := f.store.LeaseDoomedBlobs(f.ctx, now, until, reapBatch)
	if err != nil || len(keys) == 0 {
		return 0, err
	}
	// Past the lease, another deleter may take over and a new upload may
	// revive the blob: no deletion may start after it.
	dctx, cancel := context.WithDeadline(f.ctx, start.Add(reapLease))
	defer cancel()
	deleted := keys[:0:0]
	var firstErr error
	for _, k := range keys {
		if err := f.blobs.Delete(dctx, k); err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		deleted = append(deleted, k)
	}
	if err := f.store.ForgetBlobs(f.ctx, deleted, until); err != nil {
		return len(keys), err
	}
	return len(keys), firstErr
}

// sweeper deletes uploads never attached within UploadTTL.
func (f *Files) sweeper() {
	t := time.NewTicker(f.cfg.OrphanSweep)
	defer t.Stop()
	for {
		if n, err := f.SweepOrphans(f.ctx, f.svc.Now().Add(-parley.UploadTTL)); err != nil && f.ctx.Err() == nil {
			f.log.Warn("delete uploads never attached", "err", err)
		} else if n > 0 {
			f.log.Info("deleted uploads never attached", "count", n)
		}
		select {
		case <-f.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// SweepOrphans deletes the uploads created before before and not attached
// (the sweeper: UploadTTL ago) and returns how many.
func (f *Files) SweepOrphans(ctx context.Context, before time.Time) (int, error) {
	total := 0
	for {
		n, err := f.store.DeleteOrphanUploads(ctx, before, orphanBatch)
		total += n
		if n > 0 {
			f.wake()
		}
		if err != nil || n < orphanBatch {
			return total, err
		}
	}
}

// ReapNow deletes the bytes of every blob nothing uses (tests, tools).
func (f *Files) ReapNow() error {
	for {
		n, err := f.reap()
		if err != nil || n < reapBatch {
			return err
		}
	}
}

// humanBytes writes a size the way the limits are written: 25 MiB.
func humanBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
