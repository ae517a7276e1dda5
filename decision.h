/* Shared by exports.c and pam_gocap.go: numbers that must agree with the
 * capconf package (pam_gocap.go checks them at compile time). */
#ifndef PAM_GOCAP_DECISION_H
#define PAM_GOCAP_DECISION_H

enum gocap_entry { GOCAP_AUTHENTICATE = 0, GOCAP_SETCRED = 1 };
enum gocap_user { GOCAP_USER_KNOWN = 0, GOCAP_USER_CONV_AGAIN = 1, GOCAP_USER_MISSING = 2 };
enum gocap_result { GOCAP_IGNORE = 0, GOCAP_SUCCESS = 1, GOCAP_AUTH_ERR = 2, GOCAP_INCOMPLETE = 3 };
enum gocap_action { GOCAP_NO_ACTION = 0, GOCAP_CLEAR_INH = 1, GOCAP_APPLY_IAB = 2, GOCAP_DEFER_IAB = 3 };
#define GOCAP_ANSWER_VERSION 2

#endif
