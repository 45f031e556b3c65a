/* SPDX-License-Identifier: MIT */
/* driver.c - the main of a fuzz target built without libFuzzer.
 *   TARGET --seeds DIR   writes the seed corpus into DIR (for `tools/run fuzz`)
 *   TARGET --smoke N     every seed, then N mutations of them from a fixed random sequence:
 *                        the short pass of the test run (under the sanitizers it finds what
 *                        libFuzzer would, only less of it)
 *   TARGET FILE...       each file once: a reproducer of what libFuzzer found */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

struct seeds {
	unsigned char **v;
	size_t *len, n, cap;
};

static void keep(const void *data, size_t len, void *ctx)
{
	struct seeds *s = ctx;
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 16;
		s->v = realloc(s->v, s->cap * sizeof *s->v);
		s->len = realloc(s->len, s->cap * sizeof *s->len);
		if (!s->v || !s->len)
			abort();
	}
	s->v[s->n] = malloc(len ? len : 1);
	if (!s->v[s->n])
		abort();
	memcpy(s->v[s->n], data, len);
	s->len[s->n++] = len;
}

static void write_seed(const void *data, size_t len, void *ctx)
{
	static unsigned count;
	char path[4096];
	snprintf(path, sizeof path, "%s/seed-%04u", (const char *)ctx, count++);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(data, 1, len, f) != len || fclose(f)) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		exit(1);
	}
}

static unsigned long long rnd_state = 0x9e3779b97f4a7c15ull;

static unsigned long long rnd(void)
{
	rnd_state ^= rnd_state >> 12;
	rnd_state ^= rnd_state << 25;
	rnd_state ^= rnd_state >> 27;
	return rnd_state * 2685821657736338717ull;
}

/* One to eight edits: a flipped bit, an interesting byte, a byte dropped, the end cut. */
static size_t mutate(unsigned char *buf, size_t len)
{
	static const unsigned char interesting[] = {0, 0xff, '0', '9', ',', '(', ')', ' ',
						    '\'', ':', 0x7f, 0x80, 1, 8, 0x40};
	for (int k = 1 + (int)(rnd() % 8); k > 0 && len; k--) {
		size_t at = (size_t)(rnd() % len);
		switch (rnd() % 4) {
		case 0:
			buf[at] ^= (unsigned char)(1u << (rnd() % 8));
			break;
		case 1:
			buf[at] = interesting[rnd() % sizeof interesting];
			break;
		case 2:
			memmove(buf + at, buf + at + 1, len - at - 1);
			len--;
			break;
		default:
			len = at + 1;
		}
	}
	return len;
}

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return 1;
	}
	unsigned char *buf = NULL;
	size_t len = 0, cap = 0, got;
	do {
		if (len == cap && !(buf = realloc(buf, cap = cap ? 2 * cap : 65536)))
			abort();
		got = fread(buf + len, 1, cap - len, f);
		len += got;
	} while (got);
	fclose(f);
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--seeds")) {
		mkdir(argv[2], 0755);
		brg_fuzz_seeds(write_seed, argv[2]);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "--smoke")) {
		struct seeds s = {0};
		brg_fuzz_seeds(keep, &s);
		long n = strtol(argv[2], NULL, 10);
		size_t maxlen = 0;
		for (size_t i = 0; i < s.n; i++) {
			LLVMFuzzerTestOneInput(s.v[i], s.len[i]);
			maxlen = s.len[i] > maxlen ? s.len[i] : maxlen;
		}
		unsigned char *buf = malloc(maxlen ? maxlen : 1);
		if (!buf)
			abort();
		for (long it = 0; it < n && s.n; it++) {
			size_t i = (size_t)(rnd() % s.n);
			memcpy(buf, s.v[i], s.len[i]);
			size_t len = mutate(buf, s.len[i]);
			LLVMFuzzerTestOneInput(buf, len);
		}
		printf("%s: %zu seeds and %ld mutations, no fault\n", argv[0], s.n, n);
		for (size_t i = 0; i < s.n; i++)
			free(s.v[i]);
		free(s.v);
		free(s.len);
		free(buf);
		return 0;
	}
	if (argc < 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: %s --seeds DIR | --smoke N | FILE...\n", argv[0]);
		return 2;
	}
	int r = 0;
	for (int i = 1; i < argc; i++)
		r |= run_file(argv[i]);
	return r;
}
