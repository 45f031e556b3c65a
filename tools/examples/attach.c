/* SPDX-License-Identifier: MIT */
/* attach.c - an array made by one process and attached by name from another: the child
 * writes through its own mapping of the same pages and bumps the generation; the parent sees
 * both, with nothing copied.  (numpy attaches the same way: numpy.load("/dev/shm/NAME",
 * mmap_mode="r+").) */
#include <brigade.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static int child(const char *name)
{
	brg_array *b;
	int r = brg_array_open(&b, name, BRG_OPEN_WRITE); /* validated before it is mapped */
	if (r) {
		fprintf(stderr, "open %s: %s\n", name, brg_strerror(r));
		return 1;
	}
	double *d = brg_array_data(b);
	for (size_t i = 0; i < brg_array_count(b); i++)
		d[i] = (double)i;
	brg_array_generation_bump(b); /* tells readers the contents changed */
	brg_array_close(b);
	return 0;
}

int main(void)
{
	char name[64];
	snprintf(name, sizeof name, "example-attach-%d", (int)getpid());
	size_t shape[2] = {1000, 1000};
	brg_array *a;
	int r = brg_array_create(&a, name, BRG_F64, 2, shape, NULL);
	if (r) {
		fprintf(stderr, "create %s: %s (%s)\n", name, brg_strerror(r), brg_err_name(r));
		return 1;
	}
	pid_t pid = fork(); /* the child inherits no mapping of arrays: it opens them by name */
	if (pid == 0)
		_exit(child(name));
	int status = 1;
	waitpid(pid, &status, 0);
	const double *d = brg_array_data(a);
	int ok = status == 0 && brg_array_generation(a) == 2 && d[999999] == 999999.0;
	printf("%s: generation %llu, last element %g\n", name,
	       (unsigned long long)brg_array_generation(a), d[999999]);
	brg_array_close(a);          /* unmaps; the segment stays */
	brg_segment_unlink(name);    /* removes it */
	return ok ? 0 : 1;
}
