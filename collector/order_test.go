package collector

import (
	"slices"
	"testing"
)

// A scrape asks for every account's first listing before any account's
// second, so that the slots free at a cold start go to every account.
func TestStartOrder(t *testing.T) {
	for _, tc := range []struct {
		name     string
		accounts [][]int // each account's listings
		listings int
		want     []int
	}{
		{"one account", [][]int{{0, 1, 2}}, 3, []int{0, 1, 2}},
		{"accounts of five kinds", [][]int{{0, 1, 2, 3, 4}, {5, 6, 7, 8, 9}}, 10, []int{0, 5, 1, 6, 2, 7, 3, 8, 4, 9}},
		{"accounts of different kinds", [][]int{{0, 1, 2}, {3, 4}, {5}}, 6, []int{0, 3, 5, 1, 4, 2}},
		{"a listing of no account comes last", [][]int{{0, 2}}, 3, []int{0, 2, 1}},
		{"none", nil, 0, []int{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := &view{listings: make([]Listing, tc.listings)}
			for _, l := range tc.accounts {
				v.accounts = append(v.accounts, accountListings{listings: l})
			}
			if got := v.startOrder(); !slices.Equal(got, tc.want) {
				t.Errorf("order %v, want %v", got, tc.want)
			}
		})
	}
}
