package main

import "time"

// bound is a time bound a test holds albedo to (a reload served within
// 1 s, as the issue asks): as given in a plain run, five times longer
// under the race detector, where albedo itself runs instrumented. Those
// runs check what happens, the plain run checks how fast.
func bound(d time.Duration) time.Duration {
	if raceDetector {
		return 5 * d
	}
	return d
}
