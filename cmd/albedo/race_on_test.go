//go:build race

package main

// raceDetector: the tests run with -race, and so does every albedo child
// they start (the test binary itself), several times slower.
const raceDetector = true
