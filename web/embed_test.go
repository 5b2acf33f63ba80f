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
