/* The floor's entry points: Go only in the process where its runtime
 * started, as pam_gocap.so's exports.c does. */
#include <security/pam_modules.h>

#include "start.h"
#include "_cgo_export.h"

int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    (void)pamh, (void)flags, (void)argc, (void)argv;
    return go_may_run() ? floor_answer() : PAM_IGNORE;
}

int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    (void)pamh, (void)flags, (void)argc, (void)argv;
    return go_may_run() ? floor_answer() : PAM_IGNORE;
}
