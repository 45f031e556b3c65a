/* SPDX-License-Identifier: MIT */
/* xproc.h - what test_xproc and the xproc_child it execs agree on: sizes and the patterns
 * each side writes. */
#ifndef BRG_TEST_XPROC_H
#define BRG_TEST_XPROC_H

#include <stddef.h>
#include <stdint.h>

#define N_I64 1000
#define N_F32 257

static inline int64_t parent_i64(size_t i) { return (int64_t)i * 7 - 3000; }
static inline float parent_f32(size_t i) { return (float)i * 0.5f; }
static inline int64_t child_i64(size_t i) { return -(int64_t)i * 13 + 5; }
static inline float child_f32(size_t i) { return (float)i * -0.25f; }

#endif
