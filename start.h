/*
 * The host before and after the Go runtime starts (start.c), shared by
 * pam_gocap.so and the Go floor that make bench measures it against.
 */
#ifndef PAM_GOCAP_START_H
#define PAM_GOCAP_START_H

/* go_may_run says whether this is the process where the Go runtime started,
 * the only one where Go may be called. */
int go_may_run(void);

/* gocap_runtime_started is called by package main's init, once the runtime
 * and every package's init have run: it lets the library's constructor go
 * on. It returns 0; it returns something so that the wrapper cgo writes for
 * it uses its argument (-Wextra). */
int gocap_runtime_started(void);

#endif
