package server

import (
	"fmt"
	"strings"
	"testing"

	"arrs.nhs.uk/arrs/internal/buildinfo"
)

func TestMetricsReportTheBuild(t *testing.T) {
	t.Parallel()
	c := startConfigured(t, Config{})
	_, metrics := get(t, "http://"+c.MetricsAddr()+"/metrics", nil)
	info := buildinfo.Get()
	want := fmt.Sprintf(`arrs_build_info{commit=%q,goversion=%q,version=%q} 1`, info.Commit, info.GoVersion, info.Version)
	if !strings.Contains(string(metrics), want+"\n") {
		t.Errorf("/metrics lacks %s", want)
	}
}
