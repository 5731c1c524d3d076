package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"arrs.nhs.uk/arrs/claims"
)

// queueCollector reports each commissioner's review queue — how many claims
// wait in SUBMITTED and how long the oldest has waited — read from the
// database at scrape time, so every replica reports the same figures and
// none has to keep count. A scrape that cannot read the database reports
// arrs_review_queue_up 0 and no queue figures, and logs why; it never fails
// the scrape, so the rest of /metrics is still served.
type queueCollector struct {
	store   *claims.Store
	logger  *slog.Logger
	timeout time.Duration
	now     func() time.Time

	claims, oldest, up *prometheus.Desc
}

// queueScrapeTimeout bounds the query, well inside a scrape's timeout.
const queueScrapeTimeout = 2 * time.Second

func newQueueCollector(store *claims.Store, logger *slog.Logger) *queueCollector {
	return &queueCollector{
		store: store, logger: logger, timeout: queueScrapeTimeout, now: store.Now,
		claims: prometheus.NewDesc("arrs_review_queue_claims",
			"Claims awaiting review (SUBMITTED), by the commissioner that reviews them.", []string{"commissioner"}, nil),
		oldest: prometheus.NewDesc("arrs_review_queue_oldest_seconds",
			"How long the longest-waiting SUBMITTED claim has waited since its submission; absent when none waits.",
			[]string{"commissioner"}, nil),
		up: prometheus.NewDesc("arrs_review_queue_up",
			"1 if the review queue was read at this scrape, 0 if the database could not be read.", nil, nil),
	}
}

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.claims
	ch <- c.oldest
	ch <- c.up
}

// Collect reads every commissioner's queue in one query. Only SUBMITTED
// claims are read, by index (claims_state (state, submit_time) or
// claims_review_queue (commissioner_code, state, submit_time, …), as the
// planner prefers); every commissioner is listed, so an empty queue reads 0
// rather than vanishing.
func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	rows, err := c.store.ReviewQueueSizes(ctx)
	if err != nil {
		c.logger.Warn("review queue metrics: cannot read the queue", "error", err)
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)
	now := c.now()
	for _, r := range rows {
		ch <- prometheus.MustNewConstMetric(c.claims, prometheus.GaugeValue, float64(r.Claims), r.Commissioner)
		if r.Oldest != nil {
			ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, max(now.Sub(*r.Oldest).Seconds(), 0), r.Commissioner)
		}
	}
}
