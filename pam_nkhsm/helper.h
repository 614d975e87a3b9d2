/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * helper.h - nkhsm-pam-helper's body, callable by another main(): the
 * helper itself (helper-main.c), and the test helper that first installs
 * a fault-injecting PC/SC table (tests/pcscfault).
 */
#ifndef PNK_HELPER_H
#define PNK_HELPER_H

#define PNK_HELPER_FD	3

/* Serve the module on fd until one login or PIN change; the exit status. */
int pnk_helper_main(int fd);

#endif /* PNK_HELPER_H */
