package capconf

import (
	"strconv"
	"strings"
)

// sprintf is the part of fmt.Sprintf that this package's messages use: %s,
// %q, %d, %x and %v of strings, ints, uint64s, errors and Stringers. The
// module does not link fmt (and reflect behind it): every package it
// links is memory in every process that loads it.
func sprintf(format string, args ...any) string {
	var b strings.Builder
	n := 0
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' || i+1 == len(format) {
			b.WriteByte(c)
			continue
		}
		i++
		verb := format[i]
		if verb == '%' {
			b.WriteByte('%')
			continue
		}
		if n >= len(args) {
			b.WriteString("%!" + string(verb) + "(MISSING)")
			continue
		}
		b.WriteString(formatArg(verb, args[n]))
		n++
	}
	return b.String()
}

func formatArg(verb byte, arg any) string {
	switch v := arg.(type) {
	case string:
		if verb == 'q' {
			return strconv.Quote(v)
		}
		return v
	case int:
		return strconv.Itoa(v)
	case uint64:
		if verb == 'x' {
			return strconv.FormatUint(v, 16)
		}
		return strconv.FormatUint(v, 10)
	case error:
		if verb == 'q' {
			return strconv.Quote(v.Error())
		}
		return v.Error()
	case interface{ String() string }:
		if verb == 'q' {
			return strconv.Quote(v.String())
		}
		return v.String()
	}
	return "%!" + string(verb) + "(?)"
}

// wrapError is errorf's error: its text, and the error its %w named.
type wrapError struct {
	msg string
	err error
}

func (e *wrapError) Error() string { return e.msg }
func (e *wrapError) Unwrap() error { return e.err }

// errorf is fmt.Errorf for sprintf's verbs, and %w.
func errorf(format string, args ...any) error {
	var wrapped error
	if i := strings.Index(format, "%w"); i >= 0 {
		n := strings.Count(format[:i], "%") - 2*strings.Count(format[:i], "%%")
		wrapped, _ = args[n].(error)
		format = format[:i] + "%v" + format[i+2:]
	}
	return &wrapError{sprintf(format, args...), wrapped}
}
