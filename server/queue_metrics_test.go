package server

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"arrs.nhs.uk/arrs/claims"

	"github.com/prometheus/client_golang/prometheus"
)

// gauges gathers reg and returns each gauge's value by name and labels,
// written like the exposition format: name{label="value"}.
func gauges(t *testing.T, reg prometheus.Gatherer) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	out := map[string]float64{}
	for _, mf := range families {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+`="`+l.GetValue()+`"`)
			}
			key := mf.GetName()
			if len(labels) > 0 {
				key += "{" + strings.Join(labels, ",") + "}"
			}
			out[key] = m.GetGauge().GetValue()
		}
	}
	return out
}

func TestReviewQueueMetricsCountSubmittedClaimsPerCommissioner(t *testing.T) {
	a := startAPI(t)
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(newQueueCollector(claims.NewStore(a.db), slog.New(slog.DiscardHandler)))
	got := gauges(t, reg)
	// The demo data: Riverside's October 2026 and Kingsgate's September and
	// October claims await QNQ's review; the CCG that preceded it has none
	// waiting.
	if got[`arrs_review_queue_claims{commissioner="QNQ"}`] != 3 || got["arrs_review_queue_up"] != 1 {
		t.Errorf("gauges = %v; want 3 claims waiting for QNQ", got)
	}
	if v, ok := got[`arrs_review_queue_claims{commissioner="D4U1Y"}`]; !ok || v != 0 {
		t.Errorf("an empty queue reads %v (present %t), want 0", v, ok)
	}
	// Kingsgate's September claim was submitted 41 days before the demo's day.
	submitted := time.Date(2026, time.October, 22, 10, 0, 0, 0, london(t))
	if age := got[`arrs_review_queue_oldest_seconds{commissioner="QNQ"}`]; age < time.Since(submitted).Seconds()-1 ||
		age > time.Since(submitted).Seconds()+1 {
		t.Errorf("oldest QNQ submission waited %vs; want the %vs since %s", age, time.Since(submitted).Seconds(), submitted)
	}
	if _, ok := got[`arrs_review_queue_oldest_seconds{commissioner="D4U1Y"}`]; ok {
		t.Error("an empty queue has an oldest submission")
	}
	// The age is read on the store's clock: a day later, a day older.
	later := claims.NewStore(a.db, claims.WithClock(func() time.Time { return demoDay.Add(24 * time.Hour) }))
	reg = prometheus.NewPedanticRegistry()
	reg.MustRegister(newQueueCollector(later, slog.New(slog.DiscardHandler)))
	if age := gauges(t, reg)[`arrs_review_queue_oldest_seconds{commissioner="QNQ"}`]; age < 24*time.Hour.Seconds() {
		t.Errorf("a day later the oldest QNQ submission has waited %vs; want at least a day", age)
	}

	// The server registers it: /metrics reports the queue.
	_, metrics := get(t, "http://"+a.MetricsAddr()+"/metrics", nil)
	if !strings.Contains(string(metrics), `arrs_review_queue_claims{commissioner="QNQ"} 3`) {
		t.Errorf("/metrics lacks the review queue:\n%s", metrics)
	}
}

func TestReviewQueueMetricsSurviveADatabaseError(t *testing.T) {
	a := startAPI(t)
	var logs bytes.Buffer
	c := newQueueCollector(claims.NewStore(a.db), slog.New(slog.NewTextHandler(&logs, nil)))
	// A query that cannot finish in time: the scrape goes on without it.
	c.timeout = time.Nanosecond
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	got := gauges(t, reg)
	if len(got) != 1 || got["arrs_review_queue_up"] != 0 {
		t.Errorf("gauges = %v; want arrs_review_queue_up 0 alone", got)
	}
	if !strings.Contains(logs.String(), "review queue") {
		t.Errorf("the failure was not logged: %q", logs.String())
	}
}
