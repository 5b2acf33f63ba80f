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
	"net/http"
	"path"
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
// content-hashed files under /assets/ and no-cache for index.html. Paths under
// /api/ are never answered with the app: they get a JSON 404, so the caller
// should route the API before this handler.
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

// serveFile writes the named file with its cache policy and reports whether
// it exists.
func serveFile(w http.ResponseWriter, r *http.Request, fsys fs.FS, name string) bool {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return false
	}
	switch {
	case strings.HasPrefix(name, "assets/"):
		// Vite puts a content hash in every file name under assets/.
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	default:
		// index.html and the unhashed files beside it must be revalidated so
		// a new deployment is picked up at once.
		w.Header().Set("Cache-Control", "no-cache")
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, path.Base(name), modTime, bytes.NewReader(b))
	return true
}
