//go:build !race

package simdnn_test

const raceEnabled = false
