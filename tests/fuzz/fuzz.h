/* SPDX-License-Identifier: MIT */
/* fuzz.h - what a fuzz target of tests/fuzz defines: libFuzzer's entry point, and its seed
 * corpus, made by the library itself (valid inputs, which mutations then break). */
#ifndef BRG_FUZZ_H
#define BRG_FUZZ_H

#include <stddef.h>
#include <stdint.h>

typedef void (*brg_fuzz_emit_fn)(const void *data, size_t len, void *ctx);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Calls emit once per seed input. */
void brg_fuzz_seeds(brg_fuzz_emit_fn emit, void *ctx);

/* A property the target checks broke: abort, so that libFuzzer (or the test) reports it. */
#define FUZZ_ASSERT(cond)                                                                      \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond);             \
			abort();                                                               \
		}                                                                              \
	} while (0)

#endif
