package http

import (
	"context"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"parley"
	"parley/media"
	"parley/service"
)

// Files is what the file routes use (service.Files): uploads, downloads,
// thumbnails, profile and group photos.
type Files interface {
	Limits() service.FileLimits
	Upload(ctx context.Context, userID int64, body io.Reader, meta service.UploadMeta) (parley.Upload, error)
	DeleteUpload(ctx context.Context, userID, id int64) error
	Attachment(ctx context.Context, userID, id int64) (parley.Upload, error)
	Open(ctx context.Context, key string) (parley.Blob, error)
	Thumbnail(ctx context.Context, userID, id int64) (parley.Blob, string, error)
	SetAvatar(ctx context.Context, userID int64, body io.Reader, declared string) (parley.User, error)
	RemoveAvatar(ctx context.Context, userID int64) (parley.User, error)
	Avatar(ctx context.Context, userID int64) (parley.Blob, string, error)
	SetGroupPhoto(ctx context.Context, userID, id int64, body io.Reader, declared string) (parley.ConversationSummary, error)
	RemoveGroupPhoto(ctx context.Context, userID, id int64) (parley.ConversationSummary, error)
	GroupPhoto(ctx context.Context, userID, id int64) (parley.Blob, string, error)
}

// Deadlines of a request carrying a file. The server's own deadline
// (BodyTimeout) is made for JSON bodies; a file's route gets its own with
// WithBodyTimeout (Options.UploadTimeout), and the body must keep arriving:
// UploadIdle without a byte ends it.
const (
	DefaultUploadTimeout = 10 * time.Minute
	UploadIdle           = 30 * time.Second
)

// UserFileCSP is the Content-Security-Policy of every user file: a document
// made of one (an HTML file someone opens, an SVG) runs no script, loads
// nothing and is a unique origin.
const UserFileCSP = "sandbox; default-src 'none'; img-src 'self'; media-src 'self'; frame-ancestors 'none'"

// uploadBody extends the request's read deadline as the body arrives (see
// UploadIdle, UploadTimeout).
type uploadBody struct {
	r        io.Reader
	rc       *http.ResponseController
	end      time.Time // the whole upload's deadline
	extended time.Time // when the deadline was last moved
}

func (b *uploadBody) Read(p []byte) (int, error) {
	if now := time.Now(); now.Sub(b.extended) > time.Second {
		b.extended = now
		b.rc.SetReadDeadline(minTime(now.Add(UploadIdle), b.end))
	}
	return b.r.Read(p)
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func (s *Server) uploadTimeout() time.Duration {
	if s.opt.UploadTimeout == 0 {
		return DefaultUploadTimeout
	}
	return s.opt.UploadTimeout
}

// fileBody is a request's body that must keep arriving (UploadIdle) until
// the route's deadline.
func (s *Server) fileBody(w http.ResponseWriter, r *http.Request) io.Reader {
	return &uploadBody{r: r.Body, rc: http.NewResponseController(w), end: time.Now().Add(s.uploadTimeout())}
}

// allowUpload applies the per-user upload rate.
func (s *Server) allowUpload(u parley.User) error {
	if l := s.opt.UploadLimiter; l != nil {
		if ok, retry := l.Allow(u.ID); !ok {
			return &parley.Error{Code: parley.ERATELIMITED, Message: "Too many uploads; try again in a moment.", RetryAfter: retry}
		}
	}
	return nil
}

// uploadJSON is an upload as POST /api/v1/uploads answers it: the
// attachment it will be, and until when it waits to be attached.
type uploadJSON struct {
	parley.Attachment
	ExpiresAt time.Time `json:"expires_at"`
}

func (s *Server) handleUpload(w http.ResponseWriter, r *http.Request, u parley.User, _ parley.Session) {
	q := r.URL.Query()
	meta := service.UploadMeta{Name: q.Get("name"), Type: r.Header.Get("Content-Type"), Length: r.ContentLength}
	err := s.allowUpload(u)
	for _, p := range []struct {
		name string
		dst  any
	}{{"width", &meta.Width}, {"height", &meta.Height}, {"duration", &meta.Duration}} {
		if v := q.Get(p.name); v != "" && err == nil {
			switch d := p.dst.(type) {
			case *int:
				*d, err = strconv.Atoi(v)
			case *float64:
				*d, err = strconv.ParseFloat(v, 64)
			}
			if err != nil {
				err = parley.FieldErrorf(p.name, "%s must be a number.", p.name)
			}
		}
	}
	var up parley.Upload
	if err == nil {
		up, err = s.opt.Files.Upload(r.Context(), u.ID, s.fileBody(w, r), meta)
	}
	if err != nil {
		s.answerFile(w, r, nil, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"upload": uploadJSON{up.Attachment(), up.CreatedAt.Add(parley.UploadTTL)}})
}

func (s *Server) handleDeleteUpload(r *http.Request, u parley.User, _ parley.Session) (int, any, error) {
	id, err := ids(r, "id")
	if err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, s.opt.Files.DeleteUpload(r.Context(), u.ID, id[0])
}

func (s *Server) handleAttachment(w http.ResponseWriter, r *http.Request, u parley.User, _ parley.Session) {
	id, err := ids(r, "id")
	var up parley.Upload
	if err == nil {
		up, err = s.opt.Files.Attachment(r.Context(), u.ID, id[0])
	}
	var b parley.Blob
	if err == nil {
		b, err = s.opt.Files.Open(r.Context(), up.Key)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer b.Close()
	inline := media.Inline(up.ContentType) && r.URL.Query().Get("download") == ""
	s.serveFile(w, r, b, up.Key, up.ContentType, up.Name, inline)
}

func (s *Server) handleThumbnail(w http.ResponseWriter, r *http.Request, u parley.User, _ parley.Session) {
	id, err := ids(r, "id")
	var (
		b   parley.Blob
		key string
	)
	if err == nil {
		b, key, err = s.opt.Files.Thumbnail(r.Context(), u.ID, id[0])
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer b.Close()
	s.serveImage(w, r, b, key, "thumbnail")
}

// serveImage serves an image Parley made (a thumbnail, a photo): JPEG or
// PNG, told apart by its first bytes.
func (s *Server) serveImage(w http.ResponseWriter, r *http.Request, b parley.Blob, key, name string) {
	head := make([]byte, 16)
	n, _ := io.ReadFull(b, head)
	if _, err := b.Seek(0, io.SeekStart); err != nil {
		s.writeError(w, r, err)
		return
	}
	ctype := media.Sniff(head[:n], "")
	ext := ".jpg"
	if ctype == "image/png" {
		ext = ".png"
	}
	s.serveFile(w, r, b, key, ctype, name+ext, parley.IsImage(ctype))
}

// serveFile answers with a user file (docs/protocol.md, "Files"): never
// sniffed by the browser, inline only for the types media.Inline allows and
// then with the type sniffed at upload, else a download of
// application/octet-stream; under a sandbox CSP; cached privately and
// revalidated on each use (so the membership check runs on every fetch);
// with the blob's hash as ETag, and ranges.
func (s *Server) serveFile(w http.ResponseWriter, r *http.Request, b parley.Blob, key, ctype, name string, inline bool) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", UserFileCSP)
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Cache-Control", "private, no-cache")
	h.Set("ETag", `"`+key+`"`)
	disposition := "attachment"
	if inline {
		disposition = "inline"
	} else {
		ctype = "application/octet-stream"
	}
	h.Set("Content-Type", ctype)
	h.Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": name}))
	http.ServeContent(w, r, "", time.Time{}, b)
}

func (s *Server) handleSetAvatar(w http.ResponseWriter, r *http.Request, u parley.User, _ parley.Session) {
	err := s.allowUpload(u)
	var me parley.User
	if err == nil {
		me, err = s.opt.Files.SetAvatar(r.Context(), u.ID, s.fileBody(w, r), r.Header.Get("Content-Type"))
	}
	s.answerFile(w, r, map[string]any{"user": me}, err)
}

// answerFile answers a request that carried a file.
func (s *Server) answerFile(w http.ResponseWriter, r *http.Request, body any, err error) {
	if err != nil {
		w.Header().Set("Connection", "close") // the rest of the body is not read
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

func (s *Server) handleRemoveAvatar(r *http.Request, u parley.User, _ parley.Session) (int, any, error) {
	me, err := s.opt.Files.RemoveAvatar(r.Context(), u.ID)
	return http.StatusOK, map[string]any{"user": me}, err
}

func (s *Server) handleAvatar(w http.ResponseWriter, r *http.Request, _ parley.User, _ parley.Session) {
	id, err := ids(r, "id")
	var (
		b   parley.Blob
		key string
	)
	if err == nil {
		b, key, err = s.opt.Files.Avatar(r.Context(), id[0])
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer b.Close()
	s.serveImage(w, r, b, key, "avatar")
}

func (s *Server) handleSetGroupPhoto(w http.ResponseWriter, r *http.Request, u parley.User, _ parley.Session) {
	id, err := ids(r, "id")
	if err == nil {
		err = s.allowUpload(u)
	}
	var c parley.ConversationSummary
	if err == nil {
		c, err = s.opt.Files.SetGroupPhoto(r.Context(), u.ID, id[0], s.fileBody(w, r), r.Header.Get("Content-Type"))
	}
	s.answerFile(w, r, map[string]any{"conversation": c}, err)
}

func (s *Server) handleRemoveGroupPhoto(r *http.Request, u parley.User, _ parley.Session) (int, any, error) {
	id, err := ids(r, "id")
	if err != nil {
		return 0, nil, err
	}
	c, err := s.opt.Files.RemoveGroupPhoto(r.Context(), u.ID, id[0])
	return http.StatusOK, map[string]any{"conversation": c}, err
}

func (s *Server) handleGroupPhoto(w http.ResponseWriter, r *http.Request, u parley.User, _ parley.Session) {
	id, err := ids(r, "id")
	var (
		b   parley.Blob
		key string
	)
	if err == nil {
		b, key, err = s.opt.Files.GroupPhoto(r.Context(), u.ID, id[0])
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer b.Close()
	s.serveImage(w, r, b, key, "photo")
}
