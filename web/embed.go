// Package web holds the browser console's built assets (web/dist, written by
// `make web` from web/console with the npm tools pinned in
// web/package-lock.json, and committed like gen/) so that arrsd can serve
// them without npm. It owns nothing else: the console's source is
// TypeScript under web/console, and the server decides how it is served.
package web

import (
	"embed"
	"io/fs"
)

//go:embed all:dist
var dist embed.FS

// Console returns the built console: index.html at its root and its
// scripts, styles and images under assets/.
func Console() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // dist is embedded at build time; Sub cannot fail on it
	}
	return sub
}
