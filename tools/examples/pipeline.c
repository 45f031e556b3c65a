/* SPDX-License-Identifier: MIT */
/* pipeline.c - a producer, worker processes and a collector over two streams: frames
 * [id, x0 .. x(n-1)] with x = id + i go to the workers through the queue "jobs", each worker
 * writes [id, 2 sqrt(x)] into the queue "results", the collector checks every result and
 * that no id is missing.  One worker is SIGKILLed a third of the way in: the frame it held
 * goes back to the queue and another worker redoes it (tools/examples/pipeline.py is the
 * same in Python, beside multiprocessing.Queue).
 *
 * usage: example-pipeline [frames [doubles-per-frame [workers]]]   (default 600 8192 2) */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <brigade.h>

static char jobs[64], results[64];

static int worker(void)
{
	brg_stream *in = NULL, *out = NULL;
	if (brg_stream_open(&in, jobs, 0) || brg_stream_open(&out, results, 0))
		return 1;
	size_t n = brg_array_shape(brg_stream_ring(in))[1];
	for (;;) {
		brg_frame f, r;
		if (brg_stream_receive(in, &f, -1))
			return 2;
		const double *x = f.data;
		if (x[0] < 0) { /* the end */
			brg_stream_release(in, &f);
			break;
		}
		if (brg_stream_loan(out, &r, -1))
			return 3;
		double *y = r.data; /* written in place: no copy in or out */
		y[0] = x[0];
		for (size_t i = 1; i < n; i++)
			y[i] = 2 * sqrt(x[i]);
		brg_stream_publish(out, &r);
		brg_stream_release(in, &f);
	}
	brg_stream_close(in);
	brg_stream_close(out);
	return 0;
}

int main(int argc, char **argv)
{
	long frames = argc > 1 ? atol(argv[1]) : 600;
	size_t n = argc > 2 ? (size_t)atol(argv[2]) : 8192;
	int workers = argc > 3 ? atoi(argv[3]) : 2;
	if (frames < 3 || n < 2 || workers < 2 || workers > 64) {
		fprintf(stderr, "usage: %s [frames (3-) [doubles (2-) [workers (2-64)]]]\n", argv[0]);
		return 2;
	}
	snprintf(jobs, sizeof jobs, "example-pipeline-%d-jobs", (int)getpid());
	snprintf(results, sizeof results, "example-pipeline-%d-results", (int)getpid());
	brg_stream *js, *rs;
	size_t shape[1] = {n + 1};
	int r = brg_stream_create(&js, jobs, BRG_F64, 1, shape, 8, BRG_STREAM_QUEUE,
				  BRG_STREAM_BLOCK, NULL);
	if (r) {
		fprintf(stderr, "create %s: %s\n", jobs, brg_strerror(r));
		return 1;
	}
	r = brg_stream_create(&rs, results, BRG_F64, 1, shape, 8, BRG_STREAM_QUEUE,
			      BRG_STREAM_BLOCK, NULL);
	if (r) {
		fprintf(stderr, "create %s: %s\n", results, brg_strerror(r));
		brg_stream_close(js);
		brg_stream_unlink(jobs);
		return 1;
	}
	pid_t pid[64], producer;
	for (int w = 0; w < workers; w++)
		if ((pid[w] = fork()) == 0)
			_exit(worker());
	if ((producer = fork()) == 0) {
		brg_stream *s = NULL;
		if (brg_stream_open(&s, jobs, 0))
			_exit(1);
		for (long id = 0; id < frames; id++) {
			brg_frame f;
			if (brg_stream_loan(s, &f, -1))
				_exit(2);
			double *x = f.data;
			x[0] = (double)id;
			for (size_t i = 1; i <= n; i++)
				x[i] = (double)id + (double)(i - 1);
			brg_stream_publish(s, &f);
		}
		brg_stream_close(s);
		_exit(0);
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	char *seen = calloc((size_t)frames, 1);
	long got = 0, wrong = 0, twice = 0;
	int killed = 0;
	while (seen && got < frames) {
		brg_frame f;
		if ((r = brg_stream_receive(rs, &f, 60000))) {
			fprintf(stderr, "receive: %s\n", brg_strerror(r));
			break;
		}
		const double *y = f.data;
		long id = (long)y[0];
		if (id < 0 || id >= frames) {
			wrong++;
		} else if (seen[id]) {
			twice++; /* a worker killed between its publish and its release */
		} else {
			seen[id] = 1;
			got++;
			for (size_t i = 1; i <= n; i++)
				wrong += y[i] != 2 * sqrt((double)id + (double)(i - 1));
		}
		brg_stream_release(rs, &f);
		if (!killed && got == frames / 3) {
			kill(pid[0], SIGKILL);
			killed = 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
	for (int w = killed; w < workers; w++) { /* the end, for each worker still there */
		brg_frame f;
		if (brg_stream_loan(js, &f, 60000) == 0) {
			((double *)f.data)[0] = -1;
			brg_stream_publish(js, &f);
		}
	}
	int bad = got != frames || wrong != 0;
	for (int w = 0; w < workers; w++) {
		int st = 0;
		waitpid(pid[w], &st, 0);
		bad |= w >= killed && (!WIFEXITED(st) || WEXITSTATUS(st));
	}
	waitpid(producer, NULL, 0);
	printf("%ld frames of %zu KiB through %d workers (one killed mid-run): %.0f frames/s; "
	       "%ld missing, %ld wrong, %ld came twice\n",
	       frames, (n + 1) * sizeof(double) / 1024, workers, (double)got / s, frames - got,
	       wrong, twice);
	free(seen);
	brg_stream_close(js);
	brg_stream_close(rs);
	brg_stream_unlink(jobs);
	brg_stream_unlink(results);
	return bad;
}
