package balancer

import "github.com/albedo-lb/albedo/targetgroup"

// targetgroup.Group is the production Forwarder.
var _ Forwarder = (*targetgroup.Group)(nil)
