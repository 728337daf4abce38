//go:build race

package ui

// The race detector slows the pure-Go SQLite driver by ~30×, so the tests
// that fill thousands of rows use just enough to cross the window limit.
const raceEnabled = true
