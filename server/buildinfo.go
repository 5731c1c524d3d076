package server

import (
	"github.com/prometheus/client_golang/prometheus"

	"arrs.nhs.uk/arrs/internal/buildinfo"
)

// buildInfoGauge is arrs_build_info: always 1, labelled with the running
// build, so dashboards can show which version each replica runs and join it
// onto other series.
func buildInfoGauge(info buildinfo.Info) prometheus.Collector {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "arrs_build_info",
		Help: "The running build of arrsd: its version, commit and Go version. Always 1.",
		ConstLabels: prometheus.Labels{
			"version":   info.Version,
			"commit":    info.Commit,
			"goversion": info.GoVersion,
		},
	})
	g.Set(1)
	return g
}
