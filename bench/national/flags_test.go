package main

import "testing"

// The split stage drafts at most as many PCNs as the run's own unless told
// otherwise, so a few PCNs' quick run stays quick.
func TestSplitPCNsFollowsASmallRunUnlessSet(t *testing.T) {
	tests := []struct {
		args []string
		want int
	}{
		{nil, 100},
		{[]string{"--pcns", "20"}, 20},
		{[]string{"--pcns", "20", "--split-pcns", "60"}, 60},
		{[]string{"--pcns", "20", "--split-pcns", "0"}, 0},
		{[]string{"--pcns", "400"}, 100},
	}
	for _, tt := range tests {
		c, err := parseFlags(tt.args, func(string) string { return "" })
		if err != nil {
			t.Fatalf("%q: %v", tt.args, err)
		}
		if c.splitPCNs != tt.want {
			t.Errorf("%q: --split-pcns %d, want %d", tt.args, c.splitPCNs, tt.want)
		}
	}
}
