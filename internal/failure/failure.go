// Package failure names why a listing failed: the values of the exporter's
// reason label, a small fixed set. The API client sorts its errors into
// them, the cache counts failed listings by them and the collector exports
// every one; they live here so that each of those uses the same names
// without the cache having to import the API client.
package failure

// The reasons.
const (
	Auth        = "auth"
	RateLimited = "rate_limited"
	Server      = "server"
	Client      = "client"
	Network     = "network"
	Timeout     = "timeout"
	Decode      = "decode"
	Paging      = "paging"
	// Other is an error no more specific reason fits.
	Other = "other"
)

// Reasons lists every reason, for label values present from the start.
var Reasons = []string{Auth, RateLimited, Server, Client, Network, Timeout, Decode, Paging, Other}
