// Package web embeds the browser client (built by Vite into dist/app) and
// serves it.
//
// Build layout: dist/index.html is a committed placeholder page that says the
// web app has not been built, so `go build` and `go test` work before Node has
// run. `npm run build` writes the real app to dist/app (git-ignored), never
// touching the placeholder. Handler serves dist/app when it holds an
// index.html, else the placeholder.
package web

import (
	"bytes"
	"embed"
	"encoding/json"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"parley"
)

//go:embed all:dist
var dist embed.FS

// Built reports whether the embedded files are the real web app rather than
// the placeholder.
func Built() bool {
	_, err := fs.Stat(dist, "dist/app/index.html")
	return err == nil
}

// Handler serves the web app: its files, index.html for client-side routes
// (paths without a file extension outside /api/), long-lived caching for the
// content-hashed files under /assets/ and no-cache for index.html. A file
// the build also wrote compressed (name.br, name.gz: see vite.config.ts) is
// sent compressed to a client that accepts it. Paths under /api/ are never
// answered with the app: they get a JSON 404, so the caller should route the
// API before this handler.
func Handler() http.Handler {
	root := "dist"
	if Built() {
		root = "dist/app"
	}
	sub, err := fs.Sub(dist, root)
	if err != nil {
		panic(err) // root is a directory of the embedded FS
	}
	return newHandler(sub)
}

// modTime is the Last-Modified of every embedded file: embed.FS has none, so
// the process start stands in (ETags would need hashing; hashed assets do
// not need either).
var modTime = time.Now()

func newHandler(fsys fs.FS) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if p == "/api" || strings.HasPrefix(p, "/api/") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			json.NewEncoder(w).Encode(parley.ErrorResponse{Error: parley.BodyOf(parley.ErrNotFound)})
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		name := strings.TrimPrefix(path.Clean("/"+p), "/")
		if name == "" {
			name = "index.html"
		}
		if serveFile(w, r, fsys, name) {
			return
		}
		if path.Ext(name) == "" {
			// A client-side route: the app's router decides what to show.
			serveFile(w, r, fsys, "index.html")
			return
		}
		http.NotFound(w, r)
	})
}

// encodings are the precompressed variants the build may write beside a
// file, best first.
var encodings = []struct{ name, ext string }{{"br", ".br"}, {"gzip", ".gz"}}

// serveFile writes the named file with its cache policy and reports whether
// it exists. When the build wrote compressed variants of it, the best one the
// client accepts is sent instead, with Content-Encoding and the original
// file's Content-Type.
func serveFile(w http.ResponseWriter, r *http.Request, fsys fs.FS, name string) bool {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return false
	}
	h := w.Header()
	switch {
	case strings.HasPrefix(name, "assets/"):
		// Vite puts a content hash in every file name under assets/.
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	default:
		// index.html and the unhashed files beside it must be revalidated so
		// a new deployment is picked up at once.
		h.Set("Cache-Control", "no-cache")
	}
	h.Set("X-Content-Type-Options", "nosniff")
	if ct := contentType(name); ct != "" {
		h.Set("Content-Type", ct)
	}
	compressed := false
	for _, e := range encodings {
		if _, err := fs.Stat(fsys, name+e.ext); err != nil {
			continue
		}
		compressed = true
		if !accepts(r.Header.Get("Accept-Encoding"), e.name) {
			continue
		}
		cb, err := fs.ReadFile(fsys, name+e.ext)
		if err != nil {
			continue
		}
		b = cb
		h.Set("Content-Encoding", e.name)
		break
	}
	if compressed {
		h.Add("Vary", "Accept-Encoding")
	}
	http.ServeContent(w, r, path.Base(name), modTime, bytes.NewReader(b))
	return true
}

// appTypes are the types of the app's files that the system's MIME table
// may not know (Go's own lacks them): the web app manifest must be served as
// application/manifest+json.
var appTypes = map[string]string{
	".webmanifest": "application/manifest+json",
}

// contentType is the Content-Type of a file of the app, by its extension
// ("" when unknown: ServeContent sniffs).
func contentType(name string) string {
	ext := path.Ext(name)
	if ct, ok := appTypes[ext]; ok {
		return ct
	}
	return mime.TypeByExtension(ext)
}

// accepts reports whether an Accept-Encoding header allows the coding:
// named (or "*") with a q-value above zero.
func accepts(header, coding string) bool {
	star := false
	for part := range strings.SplitSeq(header, ",") {
		token, params, _ := strings.Cut(part, ";")
		token = strings.ToLower(strings.TrimSpace(token))
		if token != coding && token != "*" {
			continue
		}
		q := 1.0
		for p := range strings.SplitSeq(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					q = f
				}
			}
		}
		if token == coding {
			return q > 0 // an explicit mention wins over "*"
		}
		star = q > 0
	}
	return star
}
