//go:build tools

// Package tools pins, in go.mod, the programs the build runs with go run.
package tools

import _ "github.com/cpuguy83/go-md2man/v2"
