package server

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"arrs.nhs.uk/arrs/claims"
)

// reviewMetrics times the review: how long a claim waits from submission to
// approval, and to payment — the delay PCNs complain of.
type reviewMetrics struct {
	toApproval *prometheus.HistogramVec
	toPayment  *prometheus.HistogramVec
}

// reviewBuckets run from an hour to a quarter of a year, in seconds.
var reviewBuckets = []float64{3600, 6 * 3600, 86400, 2 * 86400, 7 * 86400, 14 * 86400, 30 * 86400, 60 * 86400, 90 * 86400}

func newReviewMetrics(reg prometheus.Registerer) *reviewMetrics {
	m := &reviewMetrics{
		toApproval: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "arrs_claim_submission_to_approval_seconds",
			Help:    "Time from a claim's submission to its approval.",
			Buckets: reviewBuckets,
		}, []string{"commissioner"}),
		toPayment: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "arrs_claim_submission_to_payment_seconds",
			Help:    "Time from a claim's submission to the recording of its payment.",
			Buckets: reviewBuckets,
		}, []string{"commissioner"}),
	}
	reg.MustRegister(m.toApproval, m.toPayment)
	return m
}

func (m *reviewMetrics) observeApproval(c claims.Claim) {
	if c.SubmitTime != nil && c.ReviewTime != nil {
		m.toApproval.WithLabelValues(c.CommissionerCode).Observe(c.ReviewTime.Sub(*c.SubmitTime).Seconds())
	}
}

func (m *reviewMetrics) observePayment(c claims.Claim) {
	if c.SubmitTime != nil {
		m.toPayment.WithLabelValues(c.CommissionerCode).Observe(time.Since(*c.SubmitTime).Seconds())
	}
}
