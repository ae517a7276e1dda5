//go:build !cgo

package launch

// restoreNofile cannot know the limit from before the runtime without the
// constructor in nofile.go, which needs cgo; gocap is built with cgo, and
// this is for the pure-Go build of the unit tests.
func restoreNofile() error { return nil }
