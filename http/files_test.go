package http_test

import (
	"bytes"
	"fmt"
	"image/jpeg"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"parley"
	"parley/app"
	"parley/media/mediatest"
	"parley/servertest"
)

// upload posts a file as the web app does: the bytes as the body, the name
// in the query, the declared type in Content-Type.
func upload(a *servertest.API, name, ctype string, data []byte, query ...string) servertest.Answer {
	a.T.Helper()
	return uploadFrom(a, name, ctype, bytes.NewReader(data), int64(len(data)), query...)
}

func uploadFrom(a *servertest.API, name, ctype string, body io.Reader, length int64, query ...string) servertest.Answer {
	a.T.Helper()
	q := url.Values{"name": {name}}
	for i := 0; i+1 < len(query); i += 2 {
		q.Set(query[i], query[i+1])
	}
	req, err := http.NewRequest("POST", a.Base+"/api/v1/uploads?"+q.Encode(), body)
	if err != nil {
		a.T.Fatal(err)
	}
	req.ContentLength = length
	req.Header.Set("Content-Type", ctype)
	return a.Send(req)
}

// fetch gets path with extra headers (name, value, ...).
func fetch(a *servertest.API, path string, headers ...string) servertest.Answer {
	a.T.Helper()
	req, err := http.NewRequest("GET", a.Base+path, nil)
	if err != nil {
		a.T.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return a.Send(req)
}

// mustUpload uploads and fails unless the answer is 201; it returns the
// upload object.
func mustUpload(a *servertest.API, name, ctype string, data []byte, query ...string) map[string]any {
	a.T.Helper()
	r := upload(a, name, ctype, data, query...)
	if r.Status != 201 {
		a.T.Fatalf("upload %s: %d %s", name, r.Status, r.Raw)
	}
	return r.Obj("upload")
}

func wantHeader(t *testing.T, r servertest.Answer, name, want string) {
	t.Helper()
	if got := r.Header.Get(name); got != want {
		t.Fatalf("%s: %q, want %q", name, got, want)
	}
}

// userFileHeaders checks what every user file is served with.
func userFileHeaders(t *testing.T, r servertest.Answer) {
	t.Helper()
	wantHeader(t, r, "X-Content-Type-Options", "nosniff")
	if csp := r.Header.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "sandbox") {
		t.Fatalf("Content-Security-Policy %q does not start with sandbox", csp)
	}
	wantHeader(t, r, "Cache-Control", "private, no-cache")
	if etag := r.Header.Get("ETag"); len(etag) != 66 {
		t.Fatalf("ETag %q is not a quoted SHA-256", etag)
	}
}

// A photo is stored without its metadata, served inline with its sniffed
// type, in ranges, revalidated by ETag; its thumbnail is re-encoded and
// upright.
func TestUploadImage(t *testing.T) {
	srv := servertest.Start(t)
	alice := servertest.SignUp(t, srv.URL, "alice")
	photo := mediatest.JPEG(1200, 900, 6) // stored 1200×900, shown 900×1200
	up := mustUpload(alice, "IMG_0001.JPG", "application/octet-stream", photo)
	if up["content_type"] != "image/jpeg" || up["name"] != "IMG_0001.JPG" || up["width"] != 900.0 || up["height"] != 1200.0 {
		t.Fatalf("upload: %v", up)
	}
	if up["url"] != fmt.Sprintf("/api/v1/attachments/%d", id(up, "id")) || up["thumbnail_url"] != up["url"].(string)+"/thumbnail" {
		t.Fatalf("urls: %v", up)
	}
	if exp, err := time.Parse(time.RFC3339, up["expires_at"].(string)); err != nil || time.Until(exp) < 23*time.Hour {
		t.Fatalf("expires_at %v", up["expires_at"])
	}
	r := fetch(alice, up["url"].(string))
	if r.Status != 200 {
		t.Fatalf("GET attachment: %d %s", r.Status, r.Raw)
	}
	userFileHeaders(t, r)
	wantHeader(t, r, "Content-Type", "image/jpeg")
	wantHeader(t, r, "Content-Disposition", `inline; filename=IMG_0001.JPG`)
	if bytes.Contains(r.Raw, []byte(mediatest.Secret)) {
		t.Fatal("the stored photo still carries its metadata (GPS)")
	}
	if int64(len(r.Raw)) != id(up, "size") || len(r.Raw) >= len(photo) {
		t.Fatalf("served %d bytes, size %v, uploaded %d", len(r.Raw), up["size"], len(photo))
	}
	if _, err := jpeg.Decode(bytes.NewReader(r.Raw)); err != nil {
		t.Fatalf("served photo: %v", err)
	}
	// Ranges and revalidation.
	part := fetch(alice, up["url"].(string), "Range", "bytes=100-199")
	if part.Status != 206 || !bytes.Equal(part.Raw, r.Raw[100:200]) {
		t.Fatalf("range: %d, %d bytes", part.Status, len(part.Raw))
	}
	wantHeader(t, part, "Content-Range", fmt.Sprintf("bytes 100-199/%d", len(r.Raw)))
	if nm := fetch(alice, up["url"].(string), "If-None-Match", r.Header.Get("ETag")); nm.Status != 304 {
		t.Fatalf("If-None-Match: %d", nm.Status)
	}
	if dl := fetch(alice, up["url"].(string)+"?download=1"); dl.Header.Get("Content-Disposition") != "attachment; filename=IMG_0001.JPG" ||
		dl.Header.Get("Content-Type") != "application/octet-stream" {
		t.Fatalf("download: %q %q", dl.Header.Get("Content-Disposition"), dl.Header.Get("Content-Type"))
	}

	th := fetch(alice, up["thumbnail_url"].(string))
	if th.Status != 200 {
		t.Fatalf("thumbnail: %d %s", th.Status, th.Raw)
	}
	userFileHeaders(t, th)
	wantHeader(t, th, "Content-Type", "image/jpeg")
	if bytes.Contains(th.Raw, []byte(mediatest.Secret)) || bytes.Contains(th.Raw, []byte("Exif")) {
		t.Fatal("thumbnail carries EXIF")
	}
	img, err := jpeg.Decode(bytes.NewReader(th.Raw))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 480 || b.Dy() != 640 {
		t.Fatalf("thumbnail %v, want 480×640 (upright, longer side 640)", b)
	}
}

// HTML and SVG are never shown: a download of application/octet-stream,
// under the sandbox CSP, whatever the client declared.
func TestUploadActiveContent(t *testing.T) {
	srv := servertest.Start(t)
	alice := servertest.SignUp(t, srv.URL, "alice")
	for _, c := range []struct{ name, ctype, body string }{
		{"page.html", "text/html", "<!doctype html><html><script>alert(document.cookie)</script></html>"},
		{"image.svg", "image/svg+xml", `<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>`},
		{"photo.jpg", "image/jpeg", "<html><body onload=alert(1)>not a photo</body></html>"},
		{"notes.txt", "text/plain", "hello"},
	} {
		up := mustUpload(alice, c.name, c.ctype, []byte(c.body))
		if up["thumbnail_url"] != nil || up["content_type"] == "image/jpeg" || up["content_type"] == "image/svg+xml" {
			t.Fatalf("%s: %v", c.name, up)
		}
		r := fetch(alice, up["url"].(string))
		userFileHeaders(t, r)
		wantHeader(t, r, "Content-Type", "application/octet-stream")
		wantHeader(t, r, "Content-Disposition", "attachment; filename="+c.name)
		if string(r.Raw) != c.body {
			t.Fatalf("%s: served %q", c.name, r.Raw)
		}
		if th := fetch(alice, up["url"].(string)+"/thumbnail"); th.Status != 404 {
			t.Fatalf("%s: thumbnail %d", c.name, th.Status)
		}
	}
	// A name with quotes and other scripts is kept, safely encoded.
	up := mustUpload(alice, `../../etc/"résumé" 履歴書.pdf`, "application/pdf", []byte("%PDF-1.4\n%%EOF\n"))
	if up["name"] != `"résumé" 履歴書.pdf` || up["content_type"] != "application/pdf" {
		t.Fatalf("pdf: %v", up)
	}
	r := fetch(alice, up["url"].(string))
	wantHeader(t, r, "Content-Type", "application/pdf")
	wantHeader(t, r, "Content-Disposition", `inline; filename*=utf-8''%22r%C3%A9sum%C3%A9%22%20%E5%B1%A5%E6%AD%B4%E6%9B%B8.pdf`)
}

// Only the uploader sees an upload not yet attached; others get the same
// 404 as for one that does not exist.
func TestUploadPrivateUntilAttached(t *testing.T) {
	srv := servertest.Start(t)
	alice, bob := servertest.SignUp(t, srv.URL, "alice"), servertest.SignUp(t, srv.URL, "bob")
	up := mustUpload(alice, "a.png", "image/png", mediatest.PNG(20, 20))
	missing := fetch(bob, fmt.Sprintf("/api/v1/attachments/%d", id(up, "id")+1000))
	for _, path := range []string{up["url"].(string), up["thumbnail_url"].(string)} {
		r := fetch(bob, path)
		if r.Status != 404 || !bytes.Equal(r.Raw, missing.Raw) {
			t.Fatalf("stranger GET %s: %d %s; missing: %s", path, r.Status, r.Raw, missing.Raw)
		}
	}
	anon := &servertest.API{T: t, Base: srv.URL}
	if r := fetch(anon, up["url"].(string)); r.Status != 401 {
		t.Fatalf("anonymous GET: %d", r.Status)
	}
	// Deleting: not bob's to delete; alice's is gone.
	bob.Must(404, "DELETE", fmt.Sprintf("/api/v1/uploads/%d", id(up, "id")), nil)
	alice.Must(204, "DELETE", fmt.Sprintf("/api/v1/uploads/%d", id(up, "id")), nil)
	if r := fetch(alice, up["url"].(string)); r.Status != 404 {
		t.Fatalf("GET after delete: %d", r.Status)
	}
}

func TestUploadLimits(t *testing.T) {
	srv := servertest.Start(t, servertest.WithConfig(func(c *app.Config) {
		c.Files.MaxUpload = 100 << 10
		c.Files.Quota = 250 << 10
		c.UploadRate = 9
	}))
	alice := servertest.SignUp(t, srv.URL, "alice")
	// Clients learn the limits first.
	f := (&servertest.API{T: t, Base: srv.URL}).Must(200, "GET", "/api/v1/features", nil).Obj("files")
	if f["max_upload"] != float64(100<<10) || f["max_attachments"] != 10.0 || f["max_image_pixels"] != 50e6 {
		t.Fatalf("features: %v", f)
	}
	big := bytes.Repeat([]byte("x"), 100<<10+1)
	// Too large, said up front and found while streaming.
	r := upload(alice, "big.bin", "application/octet-stream", big)
	if r.Status != 413 || r.Code() != "too_large" || !strings.Contains(r.Body["error"].(map[string]any)["message"].(string), "100 KiB") {
		t.Fatalf("too large: %d %s", r.Status, r.Raw)
	}
	r = uploadFrom(alice, "big.bin", "application/octet-stream", io.MultiReader(bytes.NewReader(big)), -1)
	if r.Status != 413 || r.Code() != "too_large" {
		t.Fatalf("too large, streamed: %d %s", r.Status, r.Raw)
	}
	// Exactly the limit is fine; the quota counts every upload.
	ok := big[:100<<10]
	mustUpload(alice, "a.bin", "", ok)
	mustUpload(alice, "b.bin", "", append([]byte("y"), ok[1:]...))
	r = upload(alice, "c.bin", "", append([]byte("z"), ok[1:]...))
	if r.Status != 413 || r.Code() != "quota_exceeded" {
		t.Fatalf("over quota: %d %s", r.Status, r.Raw)
	}
	// A decompression bomb is refused from its header.
	r = upload(alice, "bomb.png", "image/png", mediatest.Bomb(10_000, 10_000))
	if r.Status != 400 || r.Code() != "invalid" || !strings.Contains(string(r.Raw), "megapixels") {
		t.Fatalf("bomb: %d %s", r.Status, r.Raw)
	}
	// Bad metadata.
	r = upload(alice, "v.webm", "audio/webm", []byte("x"), "duration", "soon")
	if r.Status != 400 || r.Field() != "duration" {
		t.Fatalf("duration: %d %s", r.Status, r.Raw)
	}
	// The rate: 9 a minute, 7 used so far (refused uploads count).
	mustUpload(alice, "d.txt", "", []byte("d"))
	mustUpload(alice, "e.txt", "", []byte("e"))
	r = upload(alice, "f.txt", "", []byte("f"))
	if r.Status != 429 || r.Code() != "rate_limited" || r.Header.Get("Retry-After") == "" {
		t.Fatalf("rate: %d %s", r.Status, r.Raw)
	}
}

// Audio and video keep what the client measured.
func TestUploadVoiceNote(t *testing.T) {
	srv := servertest.Start(t)
	alice := servertest.SignUp(t, srv.URL, "alice")
	webm := append([]byte("\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01"), bytes.Repeat([]byte{0}, 500)...)
	up := mustUpload(alice, "voice-note.webm", "audio/webm;codecs=opus", webm, "duration", "3.2507", "width", "640")
	if up["content_type"] != "audio/webm" || up["duration"] != 3.25 || up["width"] != nil || up["thumbnail_url"] != nil {
		t.Fatalf("voice note: %v", up)
	}
	r := fetch(alice, up["url"].(string), "Range", "bytes=0-")
	if r.Status != 206 || r.Header.Get("Content-Type") != "audio/webm" || r.Header.Get("Accept-Ranges") != "bytes" {
		t.Fatalf("GET voice note: %d %v", r.Status, r.Header)
	}
}

// blobFiles counts the blobs stored in a node's data dir.
func blobFiles(t *testing.T, srv *servertest.Server) int {
	t.Helper()
	n := 0
	root := filepath.Join(srv.Cfg.DataDir, "blobs")
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Base(filepath.Dir(p)) != "tmp" {
			n++
		}
		return nil
	})
	return n
}

// Attachments travel with messages (REST and WebSocket, history, sync);
// members fetch them, nobody else does; deleting the message deletes them.
func TestAttachments(t *testing.T) {
	srv := servertest.Start(t)
	alice, bob, carol := servertest.SignUp(t, srv.URL, "alice"), servertest.SignUp(t, srv.URL, "bob"), servertest.SignUp(t, srv.URL, "carol")
	g := alice.Must(201, "POST", "/api/v1/groups", map[string]any{"name": "Trip"}).Obj("conversation")
	gid := id(g, "id")
	bob.Must(201, "POST", "/api/v1/groups/join", map[string]any{"code": g["code"]})
	photo := mustUpload(alice, "view.jpg", "image/jpeg", mediatest.JPEG(300, 200, 1))
	doc := mustUpload(alice, "plan.txt", "text/plain", []byte("day 1: walk"))

	msgs := fmt.Sprintf("/api/v1/conversations/%d/messages", gid)
	// Bad attachments change nothing.
	for _, bad := range []any{[]int64{id(photo, "id"), id(photo, "id")}, []int64{-1}, []int64{id(doc, "id") + 100},
		[]int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}} {
		r := alice.Do("POST", msgs, map[string]any{"client_msg_id": "bad", "text": "x", "attachments": bad})
		if r.Status != 400 || r.Field() != "attachments" {
			t.Fatalf("attachments %v: %d %s", bad, r.Status, r.Raw)
		}
	}
	if r := bob.Do("POST", msgs, map[string]any{"client_msg_id": "b", "text": "mine now", "attachments": []int64{id(photo, "id")}}); r.Status != 400 || r.Field() != "attachments" {
		t.Fatalf("bob attaching alice's upload: %d %s", r.Status, r.Raw)
	}
	// A caption is optional.
	m := alice.Must(201, "POST", msgs, map[string]any{"client_msg_id": "c1", "text": " ",
		"attachments": []int64{id(photo, "id"), id(doc, "id")}}).Obj("message")
	atts := m["attachments"].([]any)
	if m["text"] != "" || len(atts) != 2 || atts[0].(map[string]any)["name"] != "view.jpg" || atts[1].(map[string]any)["name"] != "plan.txt" {
		t.Fatalf("message: %v", m)
	}
	if r := alice.Do("POST", msgs, map[string]any{"client_msg_id": "c2", "text": " "}); r.Status != 400 || r.Field() != "text" {
		t.Fatalf("empty message without attachments: %d %s", r.Status, r.Raw)
	}
	hist := bob.Must(200, "GET", msgs, nil).Body["messages"].([]any)
	last := hist[len(hist)-1].(map[string]any)
	if fmt.Sprint(last["attachments"]) != fmt.Sprint(m["attachments"]) {
		t.Fatalf("history: %v", last["attachments"])
	}
	// Members fetch; a stranger gets the answer of a missing file.
	missing := fetch(carol, fmt.Sprintf("/api/v1/attachments/%d", id(doc, "id")+1000))
	for _, path := range []string{photo["url"].(string), photo["thumbnail_url"].(string), doc["url"].(string)} {
		if r := fetch(bob, path); r.Status != 200 {
			t.Fatalf("member GET %s: %d", path, r.Status)
		}
		if r := fetch(carol, path); r.Status != 404 || !bytes.Equal(r.Raw, missing.Raw) {
			t.Fatalf("stranger GET %s: %d %s", path, r.Status, r.Raw)
		}
	}
	// A removed member loses access at once, cached URL or not: the check
	// runs on each fetch, and an ETag revalidation gets the same 404.
	etag := fetch(bob, photo["url"].(string)).Header.Get("ETag")
	alice.Must(204, "DELETE", fmt.Sprintf("/api/v1/conversations/%d/members/%d", gid, id(bob.Must(200, "GET", "/api/v1/me", nil).Obj("user"), "id")), nil)
	if r := fetch(bob, photo["url"].(string), "If-None-Match", etag); r.Status != 404 {
		t.Fatalf("removed member revalidating: %d", r.Status)
	}
	if r := fetch(bob, doc["url"].(string)); r.Status != 404 {
		t.Fatalf("removed member: %d", r.Status)
	}
	// Deleting the message deletes the files, bytes included.
	before := blobFiles(t, srv)
	if before < 3 { // photo, its thumbnail, the text file
		t.Fatalf("%d blobs stored", before)
	}
	del := alice.Must(200, "DELETE", fmt.Sprintf("%s/%v", msgs, m["seq"]), nil).Obj("message")
	if del["attachments"] != nil {
		t.Fatalf("tombstone: %v", del)
	}
	for _, path := range []string{photo["url"].(string), photo["thumbnail_url"].(string), doc["url"].(string)} {
		if r := fetch(alice, path); r.Status != 404 {
			t.Fatalf("GET %s after delete: %d", path, r.Status)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for blobFiles(t, srv) != before-3 {
		if time.Now().After(deadline) {
			t.Fatalf("%d blobs left after the delete, want %d", blobFiles(t, srv), before-3)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Uploads never attached go after a day, bytes and all.
func TestOrphanUploads(t *testing.T) {
	srv := servertest.Start(t)
	alice := servertest.SignUp(t, srv.URL, "alice")
	up := mustUpload(alice, "later.txt", "text/plain", []byte("never sent"))
	files := srv.Node.Files
	if n, err := files.SweepOrphans(t.Context(), time.Now().Add(-parley.UploadTTL)); err != nil || n != 0 {
		t.Fatalf("sweep of a fresh upload: %d, %v", n, err)
	}
	// A day later.
	if n, err := files.SweepOrphans(t.Context(), time.Now().Add(time.Minute)); err != nil || n != 1 {
		t.Fatalf("sweep after a day: %d, %v", n, err)
	}
	if r := fetch(alice, up["url"].(string)); r.Status != 404 {
		t.Fatalf("orphan still served: %d", r.Status)
	}
	if err := files.ReapNow(); err != nil {
		t.Fatal(err)
	}
	if n := blobFiles(t, srv); n != 0 {
		t.Fatalf("%d blobs left", n)
	}
}

// putFile sends a photo.
func putFile(a *servertest.API, path, ctype string, data []byte) servertest.Answer {
	a.T.Helper()
	req, err := http.NewRequest("PUT", a.Base+path, bytes.NewReader(data))
	if err != nil {
		a.T.Fatal(err)
	}
	req.Header.Set("Content-Type", ctype)
	return a.Send(req)
}

func TestPhotos(t *testing.T) {
	srv := servertest.Start(t)
	alice, bob, carol := servertest.SignUp(t, srv.URL, "alice"), servertest.SignUp(t, srv.URL, "bob"), servertest.SignUp(t, srv.URL, "carol")
	r := putFile(alice, "/api/v1/me/avatar", "image/jpeg", mediatest.JPEG(800, 600, 6))
	if r.Status != 200 {
		t.Fatalf("PUT avatar: %d %s", r.Status, r.Raw)
	}
	url, _ := r.Obj("user")["avatar_url"].(string)
	if !strings.HasPrefix(url, "/api/v1/users/") || !strings.Contains(url, "/avatar?v=") {
		t.Fatalf("avatar_url %q", url)
	}
	if got := alice.Must(200, "GET", "/api/v1/me", nil).Obj("user")["avatar_url"]; got != url {
		t.Fatalf("GET /me avatar_url %v", got)
	}
	// Anyone logged in sees it (like a name): square, re-encoded.
	img := fetch(carol, url)
	if img.Status != 200 {
		t.Fatalf("GET avatar: %d", img.Status)
	}
	userFileHeaders(t, img)
	wantHeader(t, img, "Content-Type", "image/jpeg")
	pic, err := jpeg.Decode(bytes.NewReader(img.Raw))
	if err != nil || pic.Bounds().Dx() != 256 || pic.Bounds().Dy() != 256 || bytes.Contains(img.Raw, []byte(mediatest.Secret)) {
		t.Fatalf("avatar: %v, %v", pic.Bounds(), err)
	}
	if r := fetch((&servertest.API{T: t, Base: srv.URL}), url); r.Status != 401 {
		t.Fatalf("anonymous avatar: %d", r.Status)
	}
	// Not an image: refused, nothing changes.
	if r := putFile(alice, "/api/v1/me/avatar", "image/png", []byte("<svg/>")); r.Status != 400 || r.Field() != "file" {
		t.Fatalf("svg avatar: %d %s", r.Status, r.Raw)
	}
	// A new photo gets a new address; removal removes it.
	url2 := putFile(alice, "/api/v1/me/avatar", "image/png", mediatest.PNG(50, 80)).Obj("user")["avatar_url"].(string)
	if url2 == url {
		t.Fatal("the photo's address did not change")
	}
	if r := alice.Do("DELETE", "/api/v1/me/avatar", nil); r.Status != 200 || r.Obj("user")["avatar_url"] != nil {
		t.Fatalf("DELETE avatar: %d %s", r.Status, r.Raw)
	}
	if r := fetch(carol, url2); r.Status != 404 {
		t.Fatalf("removed avatar: %d", r.Status)
	}

	// Group photos: admins set them, members see them.
	g := alice.Must(201, "POST", "/api/v1/groups", map[string]any{"name": "G"}).Obj("conversation")
	bob.Must(201, "POST", "/api/v1/groups/join", map[string]any{"code": g["code"]})
	path := fmt.Sprintf("/api/v1/conversations/%d/photo", id(g, "id"))
	if r := putFile(bob, path, "image/jpeg", mediatest.JPEG(100, 100, 1)); r.Status != 403 {
		t.Fatalf("member sets the group photo: %d %s", r.Status, r.Raw)
	}
	r = putFile(alice, path, "image/jpeg", mediatest.JPEG(300, 100, 1))
	if r.Status != 200 {
		t.Fatalf("PUT group photo: %d %s", r.Status, r.Raw)
	}
	photo, _ := r.Obj("conversation")["photo_url"].(string)
	if !strings.HasPrefix(photo, path+"?v=") {
		t.Fatalf("photo_url %q", photo)
	}
	if r := fetch(bob, photo); r.Status != 200 {
		t.Fatalf("member GET group photo: %d", r.Status)
	}
	if r := fetch(carol, photo); r.Status != 404 {
		t.Fatalf("stranger GET group photo: %d", r.Status)
	}
	list := bob.Must(200, "GET", "/api/v1/conversations", nil).Body["conversations"].([]any)
	if list[0].(map[string]any)["photo_url"] != photo {
		t.Fatalf("list: %v", list[0])
	}
	alice.Must(200, "DELETE", path, nil)
	if r := fetch(bob, photo); r.Status != 404 {
		t.Fatalf("removed group photo: %d", r.Status)
	}
}
