package server

import (
	"net/http"
	"net/http/pprof" //nolint:gosec // G108: served only with --web.enable-pprof, on the exporter's own mux, behind its web config
)

// handlePprof serves the runtime profiles on mux. They are off by default:
// a CPU profile or trace keeps a goroutine busy for as long as the caller
// asks, and the profiles describe the process to whoever can reach them.
// net/http/pprof also registers itself on http.DefaultServeMux, which the
// exporter never serves.
func handlePprof(mux *http.ServeMux) {
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
}
