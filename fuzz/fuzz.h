/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz.h - the libFuzzer entry point each fuzz/fuzz_*.c defines; linked
 * either with -fsanitize=fuzzer or with fuzz/replay.c for make check.
 */
#ifndef NK_FUZZ_H
#define NK_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif /* NK_FUZZ_H */
