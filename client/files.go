package client

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"parley"
)

// Upload is an uploaded file: the attachment it becomes once sent, and
// until when it waits for that.
type Upload struct {
	parley.Attachment
	ExpiresAt time.Time `json:"expires_at"`
}

// UploadOptions describe a file being uploaded.
type UploadOptions struct {
	// Type is the content type to declare (the server sniffs the bytes;
	// this only tells audio from video in one container).
	Type string
	// Duration (audio, video, in seconds), Width and Height (video), as
	// measured by the client.
	Duration      float64
	Width, Height int
}

// Upload streams size bytes of body (size -1: unknown) as a file named
// name. The answer's ID goes into Send's attachments.
func (c *Client) Upload(ctx context.Context, name string, body io.Reader, size int64, opt UploadOptions) (Upload, error) {
	q := url.Values{"name": {name}}
	if opt.Duration > 0 {
		q.Set("duration", strconv.FormatFloat(opt.Duration, 'f', -1, 64))
	}
	if opt.Width > 0 || opt.Height > 0 {
		q.Set("width", strconv.Itoa(opt.Width))
		q.Set("height", strconv.Itoa(opt.Height))
	}
	if opt.Type == "" {
		opt.Type = "application/octet-stream"
	}
	var out struct {
		Upload Upload `json:"upload"`
	}
	_, err := c.send(ctx, http.MethodPost, "/uploads", q, body, opt.Type, size, &out)
	return out.Upload, err
}

// DeleteUpload deletes an upload not sent yet.
func (c *Client) DeleteUpload(ctx context.Context, id int64) error {
	_, err := c.do(ctx, http.MethodDelete, "/uploads/"+strconv.FormatInt(id, 10), nil, nil, nil)
	return err
}

// Download fetches a file by the address the server gave for it (an
// attachment's url or thumbnail_url, a photo's url) with the extra headers
// (Range, If-None-Match). A 2xx or 304 answer is returned for the caller to
// read and close; any other is an *Error.
func (c *Client) Download(ctx context.Context, path string, header http.Header) (*http.Response, error) {
	if !strings.HasPrefix(path, apiPrefix+"/") {
		return nil, fmt.Errorf("client: %q is not a file of this server", path)
	}
	u, err := c.base.Parse(strings.TrimSuffix(c.base.Path, "/") + path)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	c.header(req.Header)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("client: GET %s: %w", path, err)
	}
	if resp.StatusCode >= 300 && resp.StatusCode != http.StatusNotModified {
		defer resp.Body.Close()
		return nil, responseError(resp)
	}
	return resp, nil
}

// SetAvatar makes an image (body, of the given type) the user's profile
// photo.
func (c *Client) SetAvatar(ctx context.Context, body io.Reader, size int64, ctype string) (parley.User, error) {
	var out userBody
	_, err := c.send(ctx, http.MethodPut, "/me/avatar", nil, body, ctype, size, &out)
	return out.User, err
}

// RemoveAvatar removes the user's profile photo.
func (c *Client) RemoveAvatar(ctx context.Context) (parley.User, error) {
	var out userBody
	_, err := c.do(ctx, http.MethodDelete, "/me/avatar", nil, nil, &out)
	return out.User, err
}

// SetGroupPhoto makes an image a group's photo (admins).
func (c *Client) SetGroupPhoto(ctx context.Context, id int64, body io.Reader, size int64, ctype string) (parley.ConversationSummary, error) {
	var out convBody
	_, err := c.send(ctx, http.MethodPut, convPath(id, "/photo"), nil, body, ctype, size, &out)
	return out.Conversation, err
}
