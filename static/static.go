// Package static holds the embedded stylesheets, images and the one script, served under
// content-hashed URLs so browsers may cache them for a year. designsystemet/ is
// Digdir's Designsystemet CSS and its Altinn theme, vendored by
// scripts/designsystemet.sh (make vendor-css) with their licences.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"
)

//go:embed *.css *.svg *.js designsystemet
var files embed.FS

// Designsystemet's files, in the order a page links them: the components,
// then the tokens of the Altinn theme they read.
const (
	DesignsystemetCSS   = "designsystemet/index.css"
	DesignsystemetTheme = "designsystemet/altinn.css"
)

// hashes are the files' content hashes, worked out on first use (the
// first page rendered or static file asked for): hashing reads every
// embedded file, about 230 KB of the binary, which a service that has not
// served a page yet need not have in memory.
var hashes = sync.OnceValue(func() map[string]string {
	m := map[string]string{}
	_ = fs.WalkDir(files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(files, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		m[name] = hex.EncodeToString(sum[:])[:12]
		return nil
	})
	return m
})

// Prefix is where static files are mounted.
const Prefix = "/static/"

// URL returns the cache-busting URL of an embedded file, e.g.
// "/static/3f2a9c1b0d4e/style.css" or "/static/9b0c…/designsystemet/index.css".
func URL(name string) string { return Prefix + hashes()[name] + "/" + name }

// Handler serves URL(name) paths. A hash that does not match the file's
// current content is a 404, so a stale page never gets a new file cached
// under an old name.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest := strings.TrimPrefix(r.URL.Path, Prefix)
		hash, name, ok := strings.Cut(rest, "/")
		if want := hashes()[name]; !ok || want == "" || want != hash {
			http.NotFound(w, r)
			return
		}
		b, err := fs.ReadFile(files, name)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		switch path.Ext(name) {
		case ".css":
			w.Header().Set("Content-Type", "text/css; charset=utf-8")
		case ".svg":
			w.Header().Set("Content-Type", "image/svg+xml")
		case ".js":
			w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		default: // designsystemet/LICENSE, VERSION
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		}
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		_, _ = w.Write(b)
	})
}
