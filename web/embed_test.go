package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

func testFS() fstest.MapFS {
	return fstest.MapFS{
		"index.html":           {Data: []byte("<!doctype html><title>app</title>")},
		"favicon.svg":          {Data: []byte("<svg/>")},
		"assets/index-abc1.js": {Data: []byte("console.log(1)")},
	}
}

func get(t *testing.T, h http.Handler, target string) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	return rec.Result()
}

func body(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestHandlerFallsBackToIndexForClientRoutes(t *testing.T) {
	h := newHandler(testFS())
	for _, p := range []string{"/", "/index.html", "/c/42", "/login", "/settings/", "/new/group"} {
		res := get(t, h, p)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d, want 200", p, res.StatusCode)
		}
		if b := body(t, res); !strings.Contains(b, "<title>app</title>") {
			t.Fatalf("%s: body %q, want index.html", p, b)
		}
		if cc := res.Header.Get("Cache-Control"); cc != "no-cache" {
			t.Fatalf("%s: Cache-Control %q, want no-cache", p, cc)
		}
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Fatalf("%s: Content-Type %q", p, ct)
		}
	}
}

func TestHandlerDoesNotServeAPI(t *testing.T) {
	h := newHandler(testFS())
	for _, p := range []string{"/api", "/api/v1/nope", "/api/v1/conversations/7"} {
		res := get(t, h, p)
		if res.StatusCode != http.StatusNotFound {
			t.Fatalf("%s: status %d, want 404", p, res.StatusCode)
		}
		b := body(t, res)
		if strings.Contains(b, "<title>app</title>") || !strings.Contains(b, `"not_found"`) {
			t.Fatalf("%s: body %q, want a JSON not_found error", p, b)
		}
	}
}

func TestHandlerMissingFileIs404(t *testing.T) {
	h := newHandler(testFS())
	for _, p := range []string{"/assets/gone-123.js", "/robots.txt"} {
		if res := get(t, h, p); res.StatusCode != http.StatusNotFound {
			t.Fatalf("%s: status %d, want 404", p, res.StatusCode)
		}
	}
}

func TestHandlerCachesHashedAssets(t *testing.T) {
	h := newHandler(testFS())
	res := get(t, h, "/assets/index-abc1.js")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=31536000") || !strings.Contains(cc, "immutable") {
		t.Fatalf("Cache-Control %q, want long-lived immutable", cc)
	}
	if ct := res.Header.Get("Content-Type"); !strings.Contains(ct, "javascript") {
		t.Fatalf("Content-Type %q", ct)
	}
	if cc := get(t, h, "/favicon.svg").Header.Get("Cache-Control"); cc != "no-cache" {
		t.Fatalf("unhashed file Cache-Control %q, want no-cache", cc)
	}
}

func TestHandlerRejectsWrites(t *testing.T) {
	rec := httptest.NewRecorder()
	newHandler(testFS()).ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/c/1", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("status %d, want 405", rec.Code)
	}
}

// The embedded files work whether or not the app has been built: the
// placeholder (or the app) answers every client route.
func TestEmbeddedHandler(t *testing.T) {
	h := Handler()
	res := get(t, h, "/some/route")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	b := body(t, res)
	placeholder := strings.Contains(b, "parley-placeholder")
	if placeholder == Built() {
		t.Fatalf("Built() = %v but placeholder page served = %v", Built(), placeholder)
	}
}

func compressedFS() fstest.MapFS {
	fsys := testFS()
	fsys["assets/index-abc1.js.br"] = &fstest.MapFile{Data: []byte("BR-BYTES")}
	fsys["assets/index-abc1.js.gz"] = &fstest.MapFile{Data: []byte("GZ-BYTES")}
	fsys["index.html.gz"] = &fstest.MapFile{Data: []byte("GZ-INDEX")}
	return fsys
}

func getWith(t *testing.T, h http.Handler, target, acceptEncoding string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	if acceptEncoding != "" {
		req.Header.Set("Accept-Encoding", acceptEncoding)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func TestHandlerServesPrecompressedVariants(t *testing.T) {
	h := newHandler(compressedFS())
	for _, tc := range []struct {
		target, accept, encoding, body string
	}{
		{"/assets/index-abc1.js", "gzip, deflate, br, zstd", "br", "BR-BYTES"},
		{"/assets/index-abc1.js", "gzip", "gzip", "GZ-BYTES"},
		{"/assets/index-abc1.js", "br;q=0, gzip;q=0.5", "gzip", "GZ-BYTES"},
		{"/assets/index-abc1.js", "*", "br", "BR-BYTES"},
		{"/assets/index-abc1.js", "*, br;q=0", "gzip", "GZ-BYTES"},
		{"/assets/index-abc1.js", "", "", "console.log(1)"},
		{"/assets/index-abc1.js", "identity", "", "console.log(1)"},
		{"/assets/index-abc1.js", "gzip;q=0, br;q=0", "", "console.log(1)"},
		{"/c/42", "br, gzip", "gzip", "GZ-INDEX"}, // a client route gets index.html, compressed too
	} {
		res := getWith(t, h, tc.target, tc.accept)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s with %q: status %d", tc.target, tc.accept, res.StatusCode)
		}
		if got := res.Header.Get("Content-Encoding"); got != tc.encoding {
			t.Fatalf("%s with %q: Content-Encoding %q, want %q", tc.target, tc.accept, got, tc.encoding)
		}
		if b := body(t, res); b != tc.body {
			t.Fatalf("%s with %q: body %q, want %q", tc.target, tc.accept, b, tc.body)
		}
		if v := res.Header.Get("Vary"); v != "Accept-Encoding" {
			t.Fatalf("%s with %q: Vary %q, want Accept-Encoding", tc.target, tc.accept, v)
		}
		ct := res.Header.Get("Content-Type")
		if strings.HasSuffix(tc.target, ".js") && !strings.Contains(ct, "javascript") || !strings.HasSuffix(tc.target, ".js") && !strings.HasPrefix(ct, "text/html") {
			t.Fatalf("%s with %q: Content-Type %q is not the original file's", tc.target, tc.accept, ct)
		}
	}
	// The compressed answer keeps the file's cache policy.
	if cc := getWith(t, h, "/assets/index-abc1.js", "br").Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
		t.Fatalf("Cache-Control %q, want long-lived immutable", cc)
	}
	// A file without variants is sent as it is and does not vary.
	res := getWith(t, h, "/favicon.svg", "br, gzip")
	if res.Header.Get("Content-Encoding") != "" || res.Header.Get("Vary") != "" || body(t, res) != "<svg/>" {
		t.Fatalf("favicon: encoding %q vary %q", res.Header.Get("Content-Encoding"), res.Header.Get("Vary"))
	}
}

// The installable app's files: the manifest as application/manifest+json
// (also when sent compressed), the service worker as JavaScript; neither is
// cached without revalidation, so a new deployment's worker is found at once.
func TestHandlerServesManifestAndServiceWorker(t *testing.T) {
	fsys := testFS()
	fsys["manifest.webmanifest"] = &fstest.MapFile{Data: []byte(`{"name":"Parley"}`)}
	fsys["manifest.webmanifest.br"] = &fstest.MapFile{Data: []byte("BR-MANIFEST")}
	fsys["sw.js"] = &fstest.MapFile{Data: []byte("self.addEventListener('push', () => {})")}
	h := newHandler(fsys)
	for _, c := range []struct{ path, accept, ct, body string }{
		{"/manifest.webmanifest", "", "application/manifest+json", `{"name":"Parley"}`},
		{"/manifest.webmanifest", "br", "application/manifest+json", "BR-MANIFEST"},
		{"/sw.js", "", "text/javascript; charset=utf-8", "self.addEventListener('push', () => {})"},
	} {
		res := getWith(t, h, c.path, c.accept)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d", c.path, res.StatusCode)
		}
		if ct := res.Header.Get("Content-Type"); ct != c.ct {
			t.Errorf("%s (%q): Content-Type %q, want %q", c.path, c.accept, ct, c.ct)
		}
		if cc := res.Header.Get("Cache-Control"); cc != "no-cache" {
			t.Errorf("%s: Cache-Control %q, want no-cache", c.path, cc)
		}
		if b := body(t, res); b != c.body {
			t.Errorf("%s (%q): body %q, want %q", c.path, c.accept, b, c.body)
		}
	}
}
